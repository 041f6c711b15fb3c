#include "bilevel/cli/option_words.hpp"

#include <cctype>
#include <sstream>

namespace bilevel::cli {

namespace {

bool is_name(const std::string& token) {
  return token.size() > 1 && token[0] == '-' &&
         !std::isdigit(static_cast<unsigned char>(token[1])) && token[1] != '.';
}

} // namespace

std::vector<std::pair<std::string, std::string>> option_words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::pair<std::string, std::string>> options;
  for (std::string token; in >> token;) {
    if (is_name(token))
      options.emplace_back(token, "");
    else if (!options.empty())
      options.back().second += (options.back().second.empty() ? "" : " ") + token;
  }
  return options;
}

} // namespace bilevel::cli
