#!/usr/bin/env python3
"""Checks packaging/spack/package.py against the build without Spack: the
recipe is executed with stand-ins for Spack's directives, then
 - every find_package() of the CMakeLists has a depends_on (doctest: type test),
 - the cmake version bound matches cmake_minimum_required,
 - every variable cmake_args() defines is an option() or cache variable the
   build knows,
 - the class follows Spack's naming (Shmstack, a CMakePackage) and has a
   docstring, homepage and a version.
Usage: spack_recipe.py SOURCE_DIR"""
import pathlib, re, sys, types

src = pathlib.Path(sys.argv[1])
calls = {"depends_on": [], "version": [], "variant": [], "conflicts": []}


def recorder(kind):
    def record(*args, **kwargs):
        calls[kind].append((args, kwargs))
    return record


class CMakePackage:
    run_tests = False

    def define(self, name, value):
        return f"-D{name}={'ON' if value is True else 'OFF' if value is False else value}"


class FakeSpec:
    def satisfies(self, _):
        return False

    def __getitem__(self, _):
        return types.SimpleNamespace(mpicxx="/usr/bin/mpicxx")


fake = types.ModuleType("spack.package")
for name in calls:
    setattr(fake, name, recorder(name))
for name in ("maintainers", "license", "generator"):
    setattr(fake, name, lambda *a, **k: None)
fake.CMakePackage = CMakePackage
fake.run_after = lambda *a, **k: (lambda f: f)
fake.on_package_attributes = lambda **k: (lambda f: f)
sys.modules["spack"] = types.ModuleType("spack")
sys.modules["spack.package"] = fake

namespace = {}
exec(compile((src / "packaging/spack/package.py").read_text(), "package.py", "exec"), namespace)
errors = []
cls = namespace.get("Shmstack")
if cls is None or not issubclass(cls, CMakePackage):
    sys.exit("package.py: no class Shmstack(CMakePackage)")
for attr in ("homepage", "__doc__"):
    if not getattr(cls, attr, None):
        errors.append(f"no {attr}")
if not calls["version"]:
    errors.append("no version()")

deps = {}
for args, kwargs in calls["depends_on"]:
    spec = args[0]
    name = re.match(r"[a-z0-9-]+", spec).group(0)
    deps.setdefault(name, []).append((spec, kwargs.get("type", ("build", "link")), kwargs.get("when")))

cmake_text = "".join(p.read_text() for p in src.rglob("CMakeLists.txt") if not any(part.startswith("build") for part in p.parts))
spack_name = {"MPI": "mpi", "LibArchive": "libarchive", "Boost": "boost", "nlohmann_json": "nlohmann-json",
              "lz4": "lz4", "xxhash": "xxhash", "doctest": "doctest", "Threads": None}
for package in sorted(set(re.findall(r"find_package\((\w+)", cmake_text))):
    if package not in spack_name:
        errors.append(f"find_package({package}) has no known Spack name: add it to the recipe and to this check")
        continue
    name = spack_name[package]
    if name and name not in deps:
        errors.append(f"find_package({package}) but no depends_on('{name}')")
if not any("test" in str(t) for _, t, _ in deps.get("doctest", [])):
    errors.append("doctest is not a test dependency")
if not any("+program_options" in s for s, _, _ in deps.get("boost", [])):
    errors.append("boost without +program_options")

minimum = re.search(r"cmake_minimum_required\(VERSION ([0-9.]+)\)", cmake_text).group(1)
if not any(s == f"cmake@{minimum}:" for s, _, _ in deps.get("cmake", [])):
    errors.append(f"no depends_on('cmake@{minimum}:') (cmake_minimum_required is {minimum})")

package = cls.__new__(cls)
package.spec = FakeSpec()
known = set(re.findall(r"option\((\w+)", cmake_text)) | {"MPI_CXX_COMPILER"}
for arg in package.cmake_args():
    name = re.match(r"-D(\w+)", arg).group(1)
    if name not in known:
        errors.append(f"cmake_args() sets {name}, which the build does not define")

if errors:
    sys.exit("packaging/spack/package.py: " + "; ".join(errors))
print(f"spack recipe ok: {len(deps)} dependencies, cmake@{minimum}:")
