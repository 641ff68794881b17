// Redis URLs of the event bridge (events.redis.url): what they name, what is refused,
// and that the password never survives redaction.
#include <stdexcept>

#include <catch2/catch.hpp>

#include "kernel/events/redis_bridge.hpp"

using plexus::events::parse_redis_url;
using plexus::events::redact_redis_url;

TEST_CASE("Redis URLs name host, port, credentials and database", "[events][redis]") {
  auto plain = parse_redis_url("redis://cache.example.com");
  CHECK(plain.host == "cache.example.com");
  CHECK(plain.port == 6379);
  CHECK(plain.password.empty());
  CHECK(plain.database == 0);

  auto full = parse_redis_url("redis://ops:s%40cret@10.0.0.5:6380/2");
  CHECK(full.host == "10.0.0.5");
  CHECK(full.port == 6380);
  CHECK(full.username == "ops");
  CHECK(full.password == "s@cret");
  CHECK(full.database == 2);

  auto password_only = parse_redis_url("redis://:pw@127.0.0.1:7000/0");
  CHECK(password_only.username.empty());
  CHECK(password_only.password == "pw");
  CHECK(parse_redis_url("redis://[::1]:7001").host == "::1");
  CHECK(parse_redis_url("redis://[::1]:7001").port == 7001);

  CHECK_THROWS_AS(parse_redis_url("rediss://host"), std::invalid_argument);
  CHECK_THROWS_AS(parse_redis_url("redis://"), std::invalid_argument);
  CHECK_THROWS_AS(parse_redis_url("redis://host:0"), std::invalid_argument);
  CHECK_THROWS_AS(parse_redis_url("redis://host:port"), std::invalid_argument);
  CHECK_THROWS_AS(parse_redis_url("redis://host/db"), std::invalid_argument);
  CHECK_THROWS_AS(parse_redis_url("redis://:bad%4@host"), std::invalid_argument);
  try {
    parse_redis_url("redis://:hunter2@host:99999");
  } catch (const std::invalid_argument& e) {
    CHECK_THAT(e.what(), !Catch::Contains("hunter2"));
  }
}

TEST_CASE("redacted Redis URLs keep everything but the password", "[events][redis]") {
  CHECK(redact_redis_url("redis://:hunter2@127.0.0.1:6379/0") == "redis://:***@127.0.0.1:6379/0");
  CHECK(redact_redis_url("redis://ops:hunter2@host") == "redis://ops:***@host");
  CHECK(redact_redis_url("redis://host:6379") == "redis://host:6379");
}

TEST_CASE("topics under local. stay on the node", "[events][redis]") {
  CHECK_FALSE(plexus::events::bridged_topic("local.cache.flush"));
  CHECK(plexus::events::bridged_topic("cmdb.ci.changed"));
  CHECK(plexus::events::bridged_topic("locally.x"));
}
