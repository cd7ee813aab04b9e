// Tests the pure environment rewrite: edits from recipes, applying them, shell quoting.
#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "archive/activation.hpp"
#include "base/error.hpp"
#include "archive/manifest.hpp"
#include "archive/pack.hpp"

using shmstack::ActiveStack;
using shmstack::Activation;
using shmstack::EnvEdit;

namespace {

Activation target() {
  Activation a;
  a.kind = "target";
  a.pythonpath = {"."};
  a.path = {"bin"};
  return a;
}

Activation prefix() {
  Activation a;
  a.kind = "prefix";
  a.path = {"bin"};
  a.ld_library_path = {"lib"};
  a.set = {{"CONDA_PREFIX", "{prefix}"}, {"SHARED", "from-prefix"}};
  return a;
}

std::string value_of(const std::vector<std::string>& env, const std::string& name) {
  for (const std::string& e : env)
    if (e.rfind(name + "=", 0) == 0) return e.substr(name.size() + 1);
  return "<unset>";
}

// Runs `script` in /bin/sh and returns its standard output (one line, trimmed).
std::string run_sh(const std::string& script) {
  std::FILE* pipe = ::popen(("/bin/sh -c " + shmstack::sh_quote(script)).c_str(), "r");
  REQUIRE(pipe);
  std::string out;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, pipe)) out.append(buf, n);
  ::pclose(pipe);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

}  // namespace

TEST_CASE("one target stack prepends to PYTHONPATH and PATH and sets PYTHONNOUSERSITE") {
  auto edits = shmstack::activation_edits({{"/s/a", target()}});
  auto env = shmstack::apply_edits({"PATH=/usr/bin", "HOME=/h"}, edits);
  CHECK(value_of(env, "PATH") == "/s/a/bin:/usr/bin");
  CHECK(value_of(env, "PYTHONPATH") == "/s/a");  // unset before: no trailing ':'
  CHECK(value_of(env, "PYTHONNOUSERSITE") == "1");
  CHECK(value_of(env, "HOME") == "/h");
  CHECK(env[0].rfind("PATH=", 0) == 0);  // order of existing variables kept
  CHECK(env[1] == "HOME=/h");
}

TEST_CASE("an empty existing value gets no stray separator, a non-empty one stays behind ours") {
  auto edits = shmstack::activation_edits({{"/s/a", target()}});
  CHECK(value_of(shmstack::apply_edits({"PYTHONPATH="}, edits), "PYTHONPATH") == "/s/a");
  CHECK(value_of(shmstack::apply_edits({"PYTHONPATH=/x:/y"}, edits), "PYTHONPATH") == "/s/a:/x:/y");
}

TEST_CASE("layered stacks: the first one's directories come first and its settings win") {
  Activation second = prefix();
  second.set = {{"SHARED", "from-second"}, {"ONLY2", "x"}};
  auto edits = shmstack::activation_edits({{"/s/p", prefix()}, {"/s/t", target()}, {"/s/q", second}});
  auto env = shmstack::apply_edits({"PATH=/bin"}, edits);
  CHECK(value_of(env, "PATH") == "/s/p/bin:/s/t/bin:/s/q/bin:/bin");
  CHECK(value_of(env, "PYTHONPATH") == "/s/t");
  CHECK(value_of(env, "LD_LIBRARY_PATH") == "/s/p/lib:/s/q/lib");
  CHECK(value_of(env, "SHARED") == "from-prefix");
  CHECK(value_of(env, "CONDA_PREFIX") == "/s/p");  // {prefix} is the first stack's path
  CHECK(value_of(env, "ONLY2") == "x");
}

TEST_CASE("the same stack twice adds its directories once") {
  auto edits = shmstack::activation_edits({{"/s/a", target()}, {"/s/a", target()}});
  CHECK(value_of(shmstack::apply_edits({}, edits), "PATH") == "/s/a/bin");
}

TEST_CASE("a plain stack with nothing to add still sets PYTHONNOUSERSITE, and a stack may override it") {
  auto edits = shmstack::activation_edits({{"/s/a", Activation{}}});
  REQUIRE(edits.size() == 1);
  CHECK(edits[0].name == "PYTHONNOUSERSITE");
  Activation a;
  a.set = {{"PYTHONNOUSERSITE", "0"}};
  CHECK(value_of(shmstack::apply_edits({}, shmstack::activation_edits({{"/s", a}})), "PYTHONNOUSERSITE") == "0");
}

TEST_CASE("sh output, eval'ed by /bin/sh, gives what apply_edits computes, for awkward values") {
  for (std::string root : {"/plain", "/with space/and'quote", "/colon:in:path", "/dollar$HOME/back\\slash"}) {
    CAPTURE(root);
    auto edits = shmstack::activation_edits({{root + "/a", target()}});
    std::string lines = shmstack::render(edits, shmstack::Shell::sh, {});
    std::string old = "/old dir:/x";
    std::string got = run_sh("PYTHONPATH=" + shmstack::sh_quote(old) + "; " + lines + " printf %s \"$PYTHONPATH\"");
    CHECK(got == value_of(shmstack::apply_edits({"PYTHONPATH=" + old}, edits), "PYTHONPATH"));
    std::string unset = run_sh("unset PYTHONPATH; " + lines + " printf %s \"$PYTHONPATH\"");
    CHECK(unset == root + "/a");
  }
}

TEST_CASE("quoting for each shell") {
  CHECK(shmstack::sh_quote("a'b") == "'a'\\''b'");
  CHECK(shmstack::fish_quote("a'b\\c") == "'a\\'b\\\\c'");
  CHECK(shmstack::csh_quote("a!b") == "'a'\\!'b'");
}

TEST_CASE("csh output refuses a path it cannot quote safely") {
  auto edits = shmstack::activation_edits({{"/it's", target()}});
  CHECK_THROWS_AS(shmstack::render(edits, shmstack::Shell::csh, {}), shmstack::Error);
  CHECK_NOTHROW(shmstack::render(edits, shmstack::Shell::sh, {}));
}

TEST_CASE("parse_shell knows sh, bash, zsh, csh, tcsh, fish, json and nothing else") {
  CHECK(shmstack::parse_shell("bash") == shmstack::Shell::sh);
  CHECK(shmstack::parse_shell("tcsh") == shmstack::Shell::csh);
  CHECK(shmstack::parse_shell("fish") == shmstack::Shell::fish);
  CHECK(shmstack::parse_shell("json") == shmstack::Shell::json);
  CHECK_THROWS_AS(shmstack::parse_shell("powershell"), shmstack::UsageError);
}

TEST_CASE("check_activation rejects directories outside the stack and bad variable names") {
  Activation a = target();
  CHECK(shmstack::check_activation(a).empty());
  for (std::string dir : {"/abs", "../up", "a/../../b", "a//b", ""}) {
    CAPTURE(dir);
    Activation bad = target();
    bad.path = {dir};
    CHECK_FALSE(shmstack::check_activation(bad).empty());
  }
  Activation bad_name = target();
  bad_name.set = {{"1X", "v"}};
  CHECK_FALSE(shmstack::check_activation(bad_name).empty());
  Activation list_var = target();
  list_var.set = {{"PATH", "/evil"}};
  CHECK_FALSE(shmstack::check_activation(list_var).empty());
  Activation kind = target();
  kind.kind = "weird";
  CHECK_FALSE(shmstack::check_activation(kind).empty());
}

TEST_CASE("pack overrides: another kind replaces the recipe, directories add, variables replace") {
  Activation detected = target();
  shmstack::ActivationOverrides o;
  o.pythonpath = {"extra", "."};
  o.set = {{"A", "1"}};
  Activation a = shmstack::apply_overrides(detected, o, true);
  CHECK(a.kind == "target");
  CHECK(a.pythonpath == std::vector<std::string>{".", "extra"});
  o.kind = "prefix";
  o.set = {{"A", "1"}, {"A", "2"}};
  a = shmstack::apply_overrides(detected, o, true);
  CHECK(a.kind == "prefix");
  CHECK(a.path == std::vector<std::string>{"bin"});
  CHECK(a.pythonpath == std::vector<std::string>{"extra", "."});
  REQUIRE(a.set.size() == 1);
  CHECK(a.set[0].second == "2");
  o.path = {"../escape"};
  CHECK_THROWS_AS(shmstack::apply_overrides(detected, o, true), shmstack::Error);
}

TEST_CASE("the recipe survives the manifest's JSON, with 'set' in order") {
  shmstack::Manifest m;
  m.name = "x";
  m.id = "0123456789abcdef";
  m.activation = prefix();
  m.activation.set.emplace_back("ZZZ", "1");
  m.activation.set.emplace_back("AAA", "2");
  shmstack::Manifest back = shmstack::parse_manifest(shmstack::to_json(m), "test");
  CHECK(back.activation.ld_library_path == m.activation.ld_library_path);
  CHECK(back.activation.set == m.activation.set);
}
