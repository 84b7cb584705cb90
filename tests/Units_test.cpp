#include <catch2/catch.hpp>
#include <stdexcept>

#include "trainsim/core/Units.hpp"

using trainsim::core::Dimension;
using trainsim::core::parse_quantity;

TEST_CASE("quantities parse into SI units", "[core]")
{
  CHECK(parse_quantity("400Gbps", Dimension::bandwidth) == Approx(50e9));
  CHECK(parse_quantity("50GB/s", Dimension::bandwidth) == Approx(50e9));
  CHECK(parse_quantity("2us", Dimension::time) == Approx(2e-6));
  CHECK(parse_quantity("1.5ms", Dimension::time) == Approx(1.5e-3));
  CHECK(parse_quantity("700W", Dimension::power) == Approx(700));
  CHECK(parse_quantity("1.2kW", Dimension::power) == Approx(1200));
  CHECK(parse_quantity("80GiB", Dimension::bytes) == Approx(80.0 * 1073741824.0));
  CHECK(parse_quantity("312TFLOPS", Dimension::flop_rate) == Approx(312e12));
  CHECK(parse_quantity("15.6T", Dimension::count) == Approx(15.6e12));
  CHECK(parse_quantity("300B", Dimension::count) == Approx(300e9));
}

TEST_CASE("bad quantities name the valid units", "[core]")
{
  CHECK_THROWS_WITH(parse_quantity("400", Dimension::bandwidth),
                    Catch::Contains("missing unit") && Catch::Contains("Gbps"));
  CHECK_THROWS_WITH(parse_quantity("fast", Dimension::time), Catch::Contains("no number"));
  CHECK_THROWS_WITH(parse_quantity("3parsec", Dimension::time), Catch::Contains("unknown unit 'parsec'"));
  CHECK_THROWS_WITH(parse_quantity("inf W", Dimension::power), Catch::Contains("not finite"));
  CHECK_THROWS_AS(parse_quantity("1e308TB", Dimension::bytes), trainsim::core::InvalidArgument);
}

TEST_CASE("TRAINSIM_ASSERT throws an internal error naming the condition and builds its message only on failure",
          "[core]")
{
  int built = 0;
  auto message = [&built] {
    ++built;
    return std::string("the detail");
  };
  CHECK_NOTHROW([&] { TRAINSIM_ASSERT(1 + 1 == 2, message()); }());
  CHECK(built == 0);
  try {
    TRAINSIM_ASSERT(1 + 1 == 3, message());
    FAIL("no exception");
  } catch (const trainsim::core::InternalError& e) {
    const std::string what = e.what();
    CHECK(what.find("1 + 1 == 3") != std::string::npos);
    CHECK(what.find("the detail") != std::string::npos);
    CHECK(what.find("Units_test.cpp") != std::string::npos);
    CHECK(e.exit_code() == trainsim::core::ExitCode::internal);
  }
  CHECK(built == 1);
  // Every error trainsim throws on purpose is a core::Error (one hierarchy, exit codes from it).
  CHECK_THROWS_AS(parse_quantity("fast", Dimension::time), trainsim::core::Error);
}
