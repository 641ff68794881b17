// The HttpError a piece of kernel code throws, for tests that check its status,
// message and details.
#pragma once

#include <stdexcept>

#include <catch2/catch.hpp>

#include "kernel/http/message.hpp"

namespace plexus::test {

// The HttpError `work` throws; FAILs the test when it throws none.
template <class Work>
http::HttpError error_of(Work&& work) {
  try {
    work();
  } catch (const http::HttpError& error) {
    return error;
  }
  FAIL("expected an HttpError");
  throw std::logic_error("unreachable");
}

}  // namespace plexus::test
