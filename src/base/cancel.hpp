// Cooperative cancellation on SIGINT/SIGTERM.
//
// install_signal_handlers() makes SIGINT and SIGTERM set a process-wide flag
// (no SA_RESTART, so a blocked system call returns EINTR). Long-running loops
// call check_cancelled() at natural boundaries (a chunk, an entry); it throws
// Interrupted, and the RAII owners of staging directories and temporary files
// remove them while the exception unwinds. Waits on condition variables poll
// the flag (see BoundedQueue), so no thread sleeps through a signal.
#pragma once

namespace shmstack {

void install_signal_handlers();
// The signal that asked us to stop, or 0.
int cancel_signal();
bool cancel_requested();
// Throws Interrupted if a signal arrived.
void check_cancelled();
// For tests: simulate a signal.
void request_cancel(int signal_number);

}  // namespace shmstack
