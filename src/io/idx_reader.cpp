#include "bilevel/io/idx_reader.hpp"

#include "bilevel/core/error.hpp"

#include <zlib.h>

#include <filesystem>
#include <memory>

namespace bilevel {

namespace {

struct GzCloser {
  void operator()(gzFile_s* f) const { gzclose(f); }
};

void read_exact(gzFile file, void* buffer, std::size_t bytes, const std::string& path) {
  auto* out = static_cast<unsigned char*>(buffer);
  while (bytes > 0) {
    const unsigned chunk = static_cast<unsigned>(std::min<std::size_t>(bytes, 1u << 30));
    const int got = gzread(file, out, chunk);
    if (got <= 0)
      throw InputError("'" + path + "' is truncated or not an IDX file");
    out += got;
    bytes -= static_cast<std::size_t>(got);
  }
}

} // namespace

IdxData read_idx(const std::string& path, std::size_t first, std::size_t count) {
  if (!std::filesystem::exists(path))
    throw InputError("data file '" + path + "' does not exist");
  // gzread reads plain files transparently too.
  std::unique_ptr<gzFile_s, GzCloser> file(gzopen(path.c_str(), "rb"));
  if (!file)
    throw InputError("cannot open data file '" + path + "'");
  unsigned char magic[4];
  read_exact(file.get(), magic, 4, path);
  if (magic[0] != 0 || magic[1] != 0 || magic[2] != 0x08 || magic[3] == 0)
    throw InputError("'" + path + "' is not an IDX file of unsigned bytes");
  IdxData data;
  std::size_t item_size = 1;
  for (int d = 0; d < magic[3]; ++d) {
    unsigned char b[4];
    read_exact(file.get(), b, 4, path);
    data.dims.push_back((std::uint32_t(b[0]) << 24) | (std::uint32_t(b[1]) << 16) |
                        (std::uint32_t(b[2]) << 8) | std::uint32_t(b[3]));
    if (d > 0)
      item_size *= data.dims.back();
  }
  if (first + count > data.dims[0])
    throw InputError("'" + path + "' has " + std::to_string(data.dims[0]) + " items; " +
                     std::to_string(first + count) + " requested");
  if (gzseek(file.get(), static_cast<z_off_t>(first * item_size), SEEK_CUR) < 0)
    throw InputError("'" + path + "' is truncated");
  data.values.resize(count * item_size);
  read_exact(file.get(), data.values.data(), data.values.size(), path);
  return data;
}

} // namespace bilevel
