"""What the Python benchmarks (all, pack-unpack, bcast, import-storm) share: their common
options, messages, tools, the machine, the corpus, a private copy of the binary, timed
commands, jobs on simulated nodes, alternated rounds, medians and the JSON they write."""
import argparse
import collections
import json
import os
import resource
import shlex
import shutil
import subprocess
import statistics
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SIMNODES = os.path.join(REPO, "test", "mpi", "simnodes")
NODE_NAMES = ["nodeA", "nodeB", "nodeC", "nodeD", "nodeE", "nodeF", "nodeG", "nodeH"]
_name = os.path.basename(sys.argv[0])


CORPUS_DIR = os.environ.get("SHMSTACK_CORPUS_DIR", os.path.join(REPO, "bench", "corpus"))


def parser(corpus=None, runs=None):
    """The options every benchmark takes: -h/--help, --json FILE, --corpus-dir DIR and,
    where given a default, --corpus NAME and --runs N."""
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("-h", "--help", action="store_true")
    p.add_argument("--json")
    p.add_argument("--corpus-dir", default=CORPUS_DIR)
    if corpus is not None:
        p.add_argument("--corpus", default=corpus)
    if runs is not None:
        p.add_argument("--runs", type=int, default=runs)
    return p


def parse(p, doc):
    """Parses the command line; --help prints `doc` (the script's docstring) and exits."""
    args = p.parse_args()
    if args.help:
        print(doc.strip())
        sys.exit(0)
    return args


def require_root(why):
    if os.geteuid() != 0:
        die(f"needs root ({why})")


def log(message):
    print(f"{_name}: {message}", file=sys.stderr, flush=True)


def die(message):
    log("error: " + message)
    sys.exit(1)


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def ensure_packages(commands, packages=()):
    """Installs (apt-get update, then install; through sudo when not root) the package of
    each missing command ({command: package}) and `packages`."""
    missing = list(dict.fromkeys([p for c, p in commands.items() if not shutil.which(c)] + list(packages)))
    if not missing:
        return
    sudo = []
    if os.geteuid() != 0:
        if not shutil.which("sudo"):
            die("packages missing and not root (no sudo): " + " ".join(missing))
        sudo = ["sudo"]
    log("installing " + " ".join(missing))
    apt = sudo + ["env", "DEBIAN_FRONTEND=noninteractive", "apt-get"]
    run(apt + ["update", "-qq"])
    run(apt + ["install", "-y", "-qq", "--no-install-recommends"] + missing, stdout=subprocess.DEVNULL)


def cpu_model():
    """The CPU's model name: lscpu's, else /proc/cpuinfo's ("" when neither says)."""
    lscpu = subprocess.run(["lscpu"], capture_output=True, text=True) if shutil.which("lscpu") else None
    for line in (lscpu.stdout.splitlines() if lscpu else []):
        if line.startswith("Model name:"):
            return line.split(":", 1)[1].strip()
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return ""


def mem_gib():
    """The machine's memory (MemTotal) in GiB, to one decimal."""
    with open("/proc/meminfo") as f:
        return round(int(f.readline().split()[1]) / 2**20, 1)


def repo_revision():
    """The repository's short HEAD ("?" outside git), with "+dirty" when tracked files differ from it."""
    git = ["git", "-C", REPO]
    rev = subprocess.run(git + ["rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    if subprocess.run(git + ["diff", "--quiet", "HEAD"], capture_output=True).returncode != 0:
        return (rev or "?") + "+dirty"
    return rev or "?"


def corpus(corpus_dir, name, fallback=None):
    """The corpus directory (absolute), built with scripts/build-corpora unless it is there
    complete (with its marker .NAME.built). When it cannot be built: the corpus `fallback`
    names (logged) if given, else an error."""
    path = os.path.abspath(os.path.join(corpus_dir, name))
    if not (os.path.isdir(path) and os.path.isfile(os.path.join(corpus_dir, f".{name}.built"))):
        log(f"building corpus {name}")
        if subprocess.run([os.path.join(REPO, "scripts", "build-corpora"), "--only", name, corpus_dir]).returncode:
            if fallback:
                log(f"{name} cannot be built here; falling back to {fallback}")
                return corpus(corpus_dir, fallback)
            die(f"cannot build corpus {name}")
    return path


def shmstack_binary():
    """The binary to measure: $SHMSTACK, else build/apps/shmstack; an error when it is not there."""
    path = os.environ.get("SHMSTACK", os.path.join(REPO, "build", "apps", "shmstack"))
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        die(f"no shmstack binary at {path} (run scripts/setup, or set SHMSTACK)")
    return path


def private_binary(work):
    """A copy of shmstack_binary() in `work`: a rebuild during the run changes nothing measured."""
    copy = os.path.join(work, "shmstack")
    shutil.copy2(shmstack_binary(), copy)
    return copy


# What timed() measured: `seconds` of wall time; `cpu_s` (user + system) and `sys_cpu_s`
# (system) CPU seconds of the commands' processes; `result`, the last CompletedProcess.
Timing = collections.namedtuple("Timing", "seconds cpu_s sys_cpu_s result")


def timed(*commands, **kw):
    """Runs `commands` one after another (each an argv list, or a string: a bash line, with
    pipefail), stopping at the first that fails; `kw` goes to subprocess.run. The wall time
    is time.monotonic() around them all, the CPU that of the children they leave (waited for)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    for command in commands:
        argv = ["bash", "-o", "pipefail", "-c", command] if isinstance(command, str) else command
        result = subprocess.run(argv, **kw)
        if result.returncode != 0:
            break
    seconds = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    system = after.ru_stime - before.ru_stime
    return Timing(seconds, after.ru_utime - before.ru_utime + system, system, result)


def sim_job(spec, command, timeout=600, options=()):
    """Runs `command` on simulated nodes (`spec`: host:ranks,...; `options`: more simnodes
    options); returns seconds, dies on failure."""
    t = timed([SIMNODES, spec, *options, "--timeout", str(timeout), "--"] + command,
              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    result = t.result
    if result.returncode != 0 or result.stdout.startswith("SKIP:"):
        die(f"job failed ({result.returncode}): {' '.join(command)}\n{result.stdout}{result.stderr[-3000:]}")
    return t.seconds


def rounds(names, runs):
    """The order of each timed round: every command once, rotated by one each round
    (A B C, B C A, ...), never all runs of one command first."""
    for r in range(runs):
        k = r % len(names)
        yield names[k:] + names[:k]


def medians(samples):
    """{name: [values]} -> {name: median}."""
    return {name: statistics.median(values) for name, values in samples.items()}


def write_json(path, results):
    if path:
        with open(path, "w") as f:
            json.dump(results, f, indent=2)


def floors_tool(work):
    """scripts/bench/floors.c built into `work` (once), or None without a C compiler."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc:
        return None
    tool = os.path.join(work, "floors")
    if not os.path.exists(tool):
        run([cc, "-O2", "-pthread", "-o", tool, os.path.join(REPO, "scripts", "bench", "floors.c")])
    return tool


def machine_floors(work, n, lz4_archive=None, decoded_bytes=0):
    """The node's floors at `n` threads, measured now (scripts/bench/floors.c, built with cc):
    {"write_bytes_per_s": n writers' bandwidth into `work`, "create_files_per_s": n threads'
    rate of creating 8 KiB files there, "one_file_pwrite_bytes_per_s" and
    "one_file_mmap_bytes_per_s": n threads writing one 1 GiB file together with pwrite, or
    through a shared mapping (tmpfs serialises a file's writes on its inode lock, page faults
    it does not: what the install of one large file can reach), "lz4_decode_bytes_per_s": n
    `lz4 -dc lz4_archive` at once (`decoded_bytes` each), or None without lz4 or an archive}.
    Each but the last is the better of two tries (the first touches fresh tmpfs pages). None
    without a C compiler."""
    tool = floors_tool(work)
    if not tool:
        return None
    scratch = os.path.join(work, "floor")
    floors = {}
    for label, argv in (("write_bytes_per_s", [tool, "write", str(n), str((2 << 30) // n), scratch]),
                        ("create_files_per_s", [tool, "create", str(n), str(100000 // n), "8192", scratch]),
                        ("one_file_pwrite_bytes_per_s", [tool, "onefile", str(n), str(1 << 30), scratch, "pwrite"]),
                        ("one_file_mmap_bytes_per_s", [tool, "onefile", str(n), str(1 << 30), scratch, "mmap"])):
        best = 0.0
        for _ in range(2):
            os.makedirs(scratch)
            try:
                best = max(best, float(run(argv, capture_output=True, text=True).stdout))
            finally:
                shutil.rmtree(scratch)
        floors[label] = best
    floors["lz4_decode_bytes_per_s"] = None
    if lz4_archive and decoded_bytes and shutil.which("lz4"):
        t = timed(f"for i in $(seq {n}); do lz4 -dc {shlex.quote(lz4_archive)} >/dev/null & done; wait")
        floors["lz4_decode_bytes_per_s"] = n * decoded_bytes / t.seconds
    return floors
