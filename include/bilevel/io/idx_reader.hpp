#pragma once
// Reader for the IDX format of (Fashion-)MNIST, gzip'd or plain: big-endian header with the
// element type and dimensions, then unsigned bytes. Reads only the requested range of items.
#include <cstdint>
#include <string>
#include <vector>

namespace bilevel {

struct IdxData {
  std::vector<std::uint32_t> dims;  ///< full dimensions from the header (dims[0] = items)
  std::vector<std::uint8_t> values; ///< items [first, first + count), row-major
};

/// Reads items [first, first + count) of an IDX file of unsigned bytes. InputError when the file
/// is missing, not IDX, or has fewer items.
IdxData read_idx(const std::string& path, std::size_t first, std::size_t count);

} // namespace bilevel
