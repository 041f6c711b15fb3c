#pragma once
// Name -> factory registries behind -problem and -algorithm, in the manner of PETSc's
// KSPRegister/-ksp_type: each entry has a one-line description for -list and a function that
// declares (reads) its options, so -help can print them without building the object, and its
// traits (what a problem is, what an algorithm needs), so pairs are checked before anything is
// built.
#include "bilevel/core/error.hpp"

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace bilevel {

template <class Product, class Traits, class... Args> class Registry {
public:
  struct Entry {
    std::string description;
    std::function<void()> declare_options;
    std::function<std::unique_ptr<Product>(Args...)> create;
    Traits traits;
  };

  explicit Registry(std::string kind) : kind_(std::move(kind)) {}

  void add(const std::string& name, Entry entry) { entries_[name] = std::move(entry); }

  const Entry& at(const std::string& name) const {
    auto it = entries_.find(name);
    if (it == entries_.end())
      throw InputError("unknown " + kind_ + " '" + name + "'; accepted: " + names_joined());
    return it->second;
  }
  bool contains(const std::string& name) const { return entries_.count(name) != 0; }

  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& [name, entry] : entries_)
      out.push_back(name);
    return out;
  }
  std::string names_joined() const {
    std::string out;
    for (const auto& name : names())
      out += (out.empty() ? "" : ", ") + name;
    return out;
  }
  const std::map<std::string, Entry>& entries() const { return entries_; }

private:
  std::string kind_;
  std::map<std::string, Entry> entries_;
};

} // namespace bilevel
