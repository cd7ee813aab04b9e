// shmstack: the thin main. Everything, including the one place that prints an
// escaped error, lives in the library (src/cli/cli.cpp).
#include "cli/commands.hpp"

int main(int argc, char** argv) { return shmstack::cli::run(argc, argv); }
