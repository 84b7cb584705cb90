#include "trainsim/core/Errors.hpp"
#include "trainsim/core/Printable.hpp"

namespace trainsim::core {

namespace {
std::string format(const std::string& pointer, const std::string& message)
{
  return (pointer.empty() ? std::string("/") : pointer) + ": " + message;
}
} // namespace

std::string printable(const std::string& text)
{
  std::string out;
  auto hex = [&out](unsigned char c) {
    static const char digits[] = "0123456789abcdef";
    out += "\\x";
    out += digits[c >> 4];
    out += digits[c & 15];
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    const auto next = i + 1 < text.size() ? static_cast<unsigned char>(text[i + 1]) : 0;
    if (c < 0x20 || c == 0x7f) {
      hex(c);
    } else if (c == 0xc2 && next >= 0x80 && next <= 0x9f) { // U+0080..U+009F in UTF-8
      hex(next);
      ++i;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

ConfigError::ConfigError(std::string pointer, const std::string& message)
    : Error(format(pointer, message)), pointer_(std::move(pointer))
{
}

void assertion_failed(const char* condition, const char* file, int line, const std::string& message)
{
  std::string where(file);
  if (const auto at = where.rfind("/src/"); at != std::string::npos)
    where = where.substr(at + 1);
  throw InternalError("internal: assertion " + std::string(condition) + " failed at " + where + ":" +
                      std::to_string(line) + ": " + message +
                      " (a bug in trainsim; please report it with the scenario)");
}

} // namespace trainsim::core
