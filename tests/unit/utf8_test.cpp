// Strict UTF-8 decoding shared by metrics labels, password rules and canonical JSON.
#include <catch2/catch.hpp>

#include "kernel/text/utf8.hpp"

using plexus::text::decode_utf8;
using plexus::text::valid_utf8;

TEST_CASE("well-formed UTF-8 decodes to its code points", "[utf8]") {
  REQUIRE(decode_utf8("") == std::u32string());
  REQUIRE(decode_utf8("abc") == std::u32string(U"abc"));
  REQUIRE(decode_utf8("\xED\x8C\xA8\xEC\x8A\xA4") == std::u32string(U"\uD328\uC2A4"));  // Korean, 3 bytes each
  REQUIRE(decode_utf8("\xF0\x9F\x98\x80") == std::u32string(U"\U0001F600"));            // 4 bytes
  REQUIRE(decode_utf8("\xC3\xA9") == std::u32string(U"\u00E9"));                        // 2 bytes
}

TEST_CASE("malformed UTF-8 is refused", "[utf8]") {
  REQUIRE_FALSE(valid_utf8("\xC0\xAF"));          // overlong '/'
  REQUIRE_FALSE(valid_utf8("\xE0\x80\xAF"));      // overlong, 3 bytes
  REQUIRE_FALSE(valid_utf8("\xED\xA0\x80"));      // a UTF-16 surrogate
  REQUIRE_FALSE(valid_utf8("\xF4\x90\x80\x80"));  // past U+10FFFF
  REQUIRE_FALSE(valid_utf8("\xE2\x82"));          // truncated
  REQUIRE_FALSE(valid_utf8("\x80"));              // lone continuation byte
  REQUIRE_FALSE(valid_utf8("\xFF"));
  REQUIRE_FALSE(valid_utf8("ok\xC3("));           // bad continuation byte
  REQUIRE(valid_utf8("ok \xE2\x82\xAC"));
}
