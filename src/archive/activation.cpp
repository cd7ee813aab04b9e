#include "archive/activation.hpp"

#include <algorithm>
#include <optional>
#include <nlohmann/json.hpp>

#include "base/error.hpp"

namespace shmstack {
namespace {

const char* const kListVariables[] = {"PATH", "PYTHONPATH", "LD_LIBRARY_PATH"};

std::string join_prefix(const std::string& prefix, const std::string& relative) {
  if (relative.empty() || relative == ".") return prefix;
  return prefix + "/" + relative;
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
    s.replace(at, from.size(), to);
  return s;
}

std::string join(const std::vector<std::string>& parts) {
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : ":") + p;
  return out;
}

std::string new_value(const EnvEdit& edit, const std::vector<std::string>& environ) {
  if (edit.set) return edit.value;
  std::string value = join(edit.prepend);
  if (std::optional<std::string> old = env_value(environ, edit.name); old && !old->empty()) value += ":" + *old;
  return value;
}

}  // namespace

std::optional<std::string> env_value(const std::vector<std::string>& environ, const std::string& name) {
  for (const std::string& e : environ)
    if (e.size() > name.size() && e[name.size()] == '=' && e.compare(0, name.size(), name) == 0)
      return e.substr(name.size() + 1);
  return std::nullopt;
}

bool is_env_name(const std::string& name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  });
}

std::vector<EnvEdit> activation_edits(const std::vector<ActiveStack>& stacks) {
  std::vector<EnvEdit> edits;
  for (const char* name : kListVariables) {
    EnvEdit edit{name, {}, false, ""};
    for (const ActiveStack& s : stacks) {
      const Activation& a = s.activation;
      const std::vector<std::string>& dirs =
          edit.name == "PATH" ? a.path : edit.name == "PYTHONPATH" ? a.pythonpath : a.ld_library_path;
      for (const std::string& rel : dirs) {
        std::string dir = join_prefix(s.prefix, rel);
        if (std::find(edit.prepend.begin(), edit.prepend.end(), dir) == edit.prepend.end())
          edit.prepend.push_back(dir);
      }
    }
    if (!edit.prepend.empty()) edits.push_back(std::move(edit));
  }
  std::vector<EnvEdit> sets;
  for (const ActiveStack& s : stacks) {
    for (const auto& [name, value] : s.activation.set) {
      const std::string& var = name;  // (clang 14: lambdas cannot capture structured bindings)
      bool seen = std::any_of(sets.begin(), sets.end(), [&](const EnvEdit& e) { return e.name == var; });
      if (!seen) sets.push_back({name, {}, true, replace_all(value, "{prefix}", s.prefix)});
    }
  }
  edits.insert(edits.end(), sets.begin(), sets.end());
  if (std::none_of(edits.begin(), edits.end(), [](const EnvEdit& e) { return e.name == "PYTHONNOUSERSITE"; }))
    edits.push_back({"PYTHONNOUSERSITE", {}, true, "1"});
  return edits;
}

std::vector<std::string> apply_edits(const std::vector<std::string>& environ, const std::vector<EnvEdit>& edits) {
  std::vector<std::string> result = environ;
  for (const EnvEdit& edit : edits) {
    std::string entry = edit.name + "=" + new_value(edit, result);
    auto it = std::find_if(result.begin(), result.end(), [&](const std::string& e) {
      return e.size() > edit.name.size() && e[edit.name.size()] == '=' && e.compare(0, edit.name.size(), edit.name) == 0;
    });
    if (it != result.end()) {
      *it = std::move(entry);
    } else {
      result.push_back(std::move(entry));
    }
  }
  return result;
}

Shell parse_shell(const std::string& name) {
  if (name == "sh" || name == "bash" || name == "zsh") return Shell::sh;
  if (name == "csh" || name == "tcsh") return Shell::csh;
  if (name == "fish") return Shell::fish;
  if (name == "json") return Shell::json;
  throw UsageError("unknown shell " + quote(name) + " (use sh, csh, fish or json)");
}

std::string sh_quote(const std::string& s) { return "'" + replace_all(s, "'", "'\\''") + "'"; }

std::string csh_quote(const std::string& s) {
  // csh: no escapes inside '...'; close, escape, reopen. '!' and newlines need a backslash.
  return "'" + replace_all(replace_all(replace_all(s, "'", "'\\''"), "!", "'\\!'"), "\n", "'\\\n'") + "'";
}

std::string fish_quote(const std::string& s) {
  return "'" + replace_all(replace_all(s, "\\", "\\\\"), "'", "\\'") + "'";
}

std::string render(const std::vector<EnvEdit>& edits, Shell shell, const std::vector<std::string>& environ) {
  std::string out;
  if (shell == Shell::json) {
    nlohmann::ordered_json prepend = nlohmann::ordered_json::object(), set = nlohmann::ordered_json::object(),
                           values = nlohmann::ordered_json::object();
    for (const EnvEdit& e : edits) {
      if (e.set) {
        set[e.name] = e.value;
      } else {
        prepend[e.name] = e.prepend;
      }
      values[e.name] = new_value(e, environ);
    }
    nlohmann::ordered_json j;
    j["prepend"] = prepend;
    j["set"] = set;
    j["values"] = values;
    return j.dump(2) + "\n";
  }
  for (const EnvEdit& e : edits) {
    std::string ours = e.set ? e.value : join(e.prepend);
    switch (shell) {
      case Shell::sh:
        out += "export " + e.name + "=" + sh_quote(ours);
        if (!e.set) out += "\"${" + e.name + ":+:$" + e.name + "}\"";
        out += ";\n";
        break;
      case Shell::csh:
        if (e.set) {
          out += "setenv " + e.name + " " + csh_quote(ours) + ";\n";
        } else {
          // csh substitutes a whole line before running its 'if': the old value
          // is read inside eval '...', which only runs when the variable is set.
          if (ours.find_first_of("'\"$!`\\\n") != std::string::npos)
            throw Error("cannot write csh activation for " + quote(ours), "the path contains quotes, '$', '!' or '\\'");
          out += "if ( $?" + e.name + " ) eval 'setenv " + e.name + " \"" + ours + ":${" + e.name + "}\"';\n";
          out += "if ( ! $?" + e.name + " ) setenv " + e.name + " " + csh_quote(ours) + ";\n";
        }
        break;
      case Shell::fish:
        out += "set -gx " + e.name;
        if (e.set) {
          out += " " + fish_quote(ours);
        } else {
          for (const std::string& dir : e.prepend) out += " " + fish_quote(dir);
          out += " $" + e.name;
        }
        out += ";\n";
        break;
      case Shell::json:
        break;
    }
  }
  return out;
}

}  // namespace shmstack
