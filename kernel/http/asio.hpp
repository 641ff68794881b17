// The one way kernel code includes Asio and Beast. Boost 1.74's asio/awaitable.hpp
// misses #include <utility> under GCC 12 in C++20 mode, so it comes first.
#pragma once

#include <utility>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace plexus::http {
namespace net = boost::asio;
namespace beast = boost::beast;
using tcp = boost::asio::ip::tcp;
}  // namespace plexus::http
