// Activation: how installed stacks change a program's environment (DESIGN §6).
//
// Pure functions only. A stack's recipe (manifest Activation: directories to
// prepend to PATH, PYTHONPATH, LD_LIBRARY_PATH, variables to set with a
// "{prefix}" placeholder) and where it is installed give a list of edits;
// edits applied to an environment give the new environment; edits rendered
// for a shell give lines to eval. Several stacks layer in the order given:
// the first one's directories come first and its settings win. The user's
// existing values are kept behind ours, never dropped. PYTHONNOUSERSITE=1 is
// always set (a stack must not be shadowed by ~/.local).
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "archive/manifest.hpp"

namespace shmstack {

struct ActiveStack {
  std::string prefix;  // where it is installed
  Activation activation;
};

struct EnvEdit {
  std::string name;
  std::vector<std::string> prepend;  // joined with ':' in front of the old value
  bool set = false;                  // replace the value with `value` instead
  std::string value;
};

std::vector<EnvEdit> activation_edits(const std::vector<ActiveStack>& stacks);

// `environ` as "NAME=VALUE" strings (like envp); returns the new one. Order is
// kept; new variables are appended.
std::vector<std::string> apply_edits(const std::vector<std::string>& environ, const std::vector<EnvEdit>& edits);

// The value of `name` in `environ` ("NAME=VALUE" strings), if set.
std::optional<std::string> env_value(const std::vector<std::string>& environ, const std::string& name);

enum class Shell { sh, csh, fish, json };
// Throws UsageError for an unknown name.
Shell parse_shell(const std::string& name);
// Lines that make a shell of that kind apply the edits to its own
// environment when eval'ed (json: a description, and the values that result
// from `environ`).
std::string render(const std::vector<EnvEdit>& edits, Shell shell, const std::vector<std::string>& environ);

// Quoting, exposed for tests.
std::string sh_quote(const std::string& s);
std::string csh_quote(const std::string& s);
std::string fish_quote(const std::string& s);

// "NAME" is a portable environment variable name ([A-Za-z_][A-Za-z0-9_]*).
bool is_env_name(const std::string& name);

}  // namespace shmstack
