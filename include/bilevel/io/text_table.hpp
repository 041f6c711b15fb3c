#pragma once
// Numeric tables stored as whitespace-separated text, plain or gzip'd (the form scikit-learn
// ships its small regression sets in, e.g. Debian python3-sklearn's diabetes files).
#include <Eigen/Dense>

#include <string>

namespace bilevel {

/// Reads every row of `path` (gzip'd or plain) into a rows x columns matrix. InputError when the
/// file is missing, a field is not a number, or the rows have different lengths.
Eigen::MatrixXd read_text_table(const std::string& path);

} // namespace bilevel
