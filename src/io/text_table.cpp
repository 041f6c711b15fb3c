#include "bilevel/io/text_table.hpp"

#include "bilevel/core/error.hpp"

#include <zlib.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <sstream>
#include <vector>

namespace bilevel {

namespace {

struct GzCloser {
  void operator()(gzFile_s* f) const { gzclose(f); }
};

std::string read_all_text(const std::string& path) {
  if (!std::filesystem::exists(path))
    throw InputError("data file '" + path + "' does not exist");
  // gzread reads plain files transparently too.
  std::unique_ptr<gzFile_s, GzCloser> file(gzopen(path.c_str(), "rb"));
  if (!file)
    throw InputError("cannot open data file '" + path + "'");
  std::string text;
  char buffer[1 << 16];
  int got = 0;
  while ((got = gzread(file.get(), buffer, sizeof buffer)) > 0)
    text.append(buffer, static_cast<std::size_t>(got));
  if (got < 0)
    throw InputError("data file '" + path + "' is corrupt (gzip error)");
  return text;
}

} // namespace

Eigen::MatrixXd read_text_table(const std::string& path) {
  std::istringstream lines(read_all_text(path));
  std::vector<double> values;
  long long rows = 0, columns = -1;
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string field;
    long long count = 0;
    while (fields >> field) {
      char* end = nullptr;
      const double value = std::strtod(field.c_str(), &end);
      if (end != field.c_str() + field.size())
        throw InputError("data file '" + path + "' row " + std::to_string(rows + 1) + ": '" +
                         field + "' is not a number");
      values.push_back(value);
      ++count;
    }
    if (count == 0)
      continue; // blank line
    if (columns >= 0 && count != columns)
      throw InputError("data file '" + path + "' row " + std::to_string(rows + 1) + " has " +
                       std::to_string(count) + " fields; expected " + std::to_string(columns));
    columns = count;
    ++rows;
  }
  if (rows == 0)
    throw InputError("data file '" + path + "' holds no rows");
  return Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
      values.data(), rows, columns);
}

} // namespace bilevel
