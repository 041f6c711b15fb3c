#pragma once
// Transparent huge pages for large arrays that are swept in column blocks. A pass over a block
// of rows of a column-major matrix touches every column, i.e. one 4 KiB page per column per
// block (785 pages per block for the softmax oracles' features): the TLB misses on those pages
// held the one-pass kernels at 1.2-1.4x of their bound. Backed by 2 MiB pages the same sweep
// stays within a few TLB entries. The machine's policy is usually "madvise", so the pages must
// be asked for.
#include <cstddef>

namespace bilevel {

/// Asks the kernel to back the whole 2 MiB pages inside [data, data + bytes) with huge pages.
/// Takes effect for pages not yet touched: call it after allocating, before filling. Only advice:
/// it does nothing where the kernel has no transparent huge pages, and never changes contents.
void advise_huge_pages(void* data, std::size_t bytes);

} // namespace bilevel
