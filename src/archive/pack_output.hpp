// Where pack writes its archive: checks made before any file is read.
//
// pack's output mistakes used to surface only at the end (a directory as -o
// packed everything, then failed to rename) or never (an existing archive was
// replaced; -o inside the packed tree was packed into itself; "env.tar.gz"
// held LZ4 data). These checks run first and say what to do. They do not
// reserve the name: FileSink (byte_sink.hpp) still refuses to replace a file
// that appears meanwhile unless told to.
#pragma once

#include <string>
#include <string_view>

namespace shmstack {

// "" when the file name's suffix fits what pack writes (LZ4-framed tar);
// otherwise the compression or format the suffix claims ("gzip", "plain tar"
// ...). .tar.lz4, .tlz4 and .lz4 fit; so does a name with no archive suffix.
std::string foreign_archive_suffix(std::string_view output);
// `output` with its archive suffix replaced by .tar.lz4 ("env.tgz" -> "env.tar.lz4").
std::string lz4_output_name(std::string_view output);

// Throws Error when pack of `dir` cannot or should not write `output`: it is
// a directory, its directory is missing or not writable, it lies inside
// `dir`, or it exists and `replace` is false.
void check_pack_output(const std::string& dir, const std::string& output, bool replace);

}  // namespace shmstack
