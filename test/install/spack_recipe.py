#!/usr/bin/env python3
"""Checks packaging/spack/package.py against the build without Spack: the
recipe is executed with stand-ins for Spack's directives, then
 - every find_package() of the CMakeLists has a depends_on (doctest: type test),
 - the cmake version bound matches cmake_minimum_required,
 - every variable cmake_args() defines is an option() or cache variable the
   build knows,
 - the class follows Spack's naming (Shmstack, a CMakePackage) and has a
   docstring, homepage and a version,
 - its newest release is the project's version (CMakeLists.txt's
   project(VERSION), which --version prints), fetched from the tag vX.Y.Z,
 - no dependency is declared that the build does not use (pkgconfig).
The real check, by Spack itself, is test/install/spack.sh.
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
        return types.SimpleNamespace(mpicxx="/usr/bin/mpicxx", name="mpich")


fake = types.ModuleType("spack.package")
for name in calls:
    setattr(fake, name, recorder(name))
for name in ("maintainers", "license", "generator"):
    setattr(fake, name, lambda *a, **k: None)
fake.CMakePackage = CMakePackage
fake.run_after = lambda *a, **k: (lambda f: f)
fake.on_package_attributes = lambda **k: (lambda f: f)
fake.os = __import__("os")
fake.join_path = fake.os.path.join
sys.modules["spack"] = types.ModuleType("spack")
sys.modules["spack.package"] = fake
sys.modules["spack_repo"] = None  # Spack v0.x: the recipe falls back to spack.package

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
project_version = re.search(r"project\(shmstack VERSION ([0-9.]+)", (src / "CMakeLists.txt").read_text()).group(1)
releases = [(args[0], kwargs) for args, kwargs in calls["version"] if re.fullmatch(r"[0-9.]+", args[0])]
newest = max(releases, key=lambda r: [int(x) for x in r[0].split(".")], default=None)
if newest is None or newest[0] != project_version:
    errors.append(f"the newest version() is {newest and newest[0]}, the project's (CMakeLists.txt) {project_version}")
elif newest[1].get("tag") != f"v{project_version}" and "sha256" not in newest[1]:
    errors.append(f"version('{project_version}') has neither tag='v{project_version}' nor a sha256")

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

for unused in ("pkgconfig", "pkgconf"):
    if unused in deps and "pkg_check_modules" not in cmake_text and "PkgConfig" not in cmake_text:
        errors.append(f"depends_on('{unused}'), but the build does not use pkg-config")

minimum = re.search(r"cmake_minimum_required\(VERSION ([0-9.]+)\)", cmake_text).group(1)
if not any(s == f"cmake@{minimum}:" for s, _, _ in deps.get("cmake", [])):
    errors.append(f"no depends_on('cmake@{minimum}:') (cmake_minimum_required is {minimum})")

package = cls.__new__(cls)
package.spec = FakeSpec()
cmake_text += (src / "cmake/ShmstackMPI.cmake").read_text()
known = set(re.findall(r"option\((\w+)", cmake_text)) | {"MPI_CXX_COMPILER"}
known |= set(re.findall(r"set\((\w+) [^)]*\bCACHE\b", cmake_text))
for arg in package.cmake_args():
    name = re.match(r"-D(\w+)", arg).group(1)
    if name not in known:
        errors.append(f"cmake_args() sets {name}, which the build does not define")

if errors:
    sys.exit("packaging/spack/package.py: " + "; ".join(errors))
print(f"spack recipe ok: {len(deps)} dependencies, cmake@{minimum}:")
