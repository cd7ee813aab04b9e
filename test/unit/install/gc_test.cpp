// Tests the names gc reads (every work directory names its lock's id) and the
// --older-than range.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "install/gc.hpp"
#include "install/node_root.hpp"

using shmstack::gc_age_seconds;
using shmstack::stack_dir_id;
using shmstack::work_dir_id;

TEST_CASE("work_dir_id reads every staging and removal name, old ones too") {
  CHECK(work_dir_id(".staging-numpy-0123456789ab-4242") == "0123456789ab");
  CHECK(work_dir_id(".staging-my-env-0123456789ab-4242") == "0123456789ab");
  CHECK(work_dir_id(".removing-0123456789ab-deadbeef") == "0123456789ab");
  // what older versions left when a removal of a staging directory died
  CHECK(work_dir_id(".removing-.staging-x-0123456789ab-123-456") == "0123456789ab");
  CHECK(work_dir_id(".removing-y-0123456789ab-789") == "0123456789ab");
  CHECK(work_dir_id(".removing-noid").empty());
  CHECK(work_dir_id(".staging-x-0123456789AB-1").empty());
  CHECK(work_dir_id("numpy-0123456789ab").empty());  // a stack, not a work directory
  CHECK(stack_dir_id("numpy-0123456789ab") == "0123456789ab");
  CHECK(stack_dir_id("numpy").empty());
}

TEST_CASE("gc --older-than takes finite days from 0 to kMaxGcDays") {
  CHECK(gc_age_seconds(0) == 0);
  CHECK(gc_age_seconds(1.5) == 129600);
  CHECK(gc_age_seconds(shmstack::kMaxGcDays).has_value());
  CHECK_FALSE(gc_age_seconds(-1).has_value());
  CHECK_FALSE(gc_age_seconds(1e20).has_value());
  CHECK_FALSE(gc_age_seconds(std::numeric_limits<double>::infinity()).has_value());
  CHECK_FALSE(gc_age_seconds(std::nan("")).has_value());
}
