/* cnn_emu/control.h - switches and reports of the CUDA emulation itself,
 * for the tests; no real CUDA has these.
 *
 * Check mode (CNN_EMU_CHECK=1 in the environment, or cnn_emu_set_check):
 * every launch runs twice, first with the threads of each block in
 * forward order and then in reverse order (blocks too), each time from
 * the same device memory and with shared memory starting as NaN (with a
 * different bit pattern each time); the two results must be bit for bit
 * the same, or the launch fails with cudaErrorLaunchFailure and a report
 * naming the kernel, the allocation and the first differing byte. */
#ifndef CNN_EMU_CONTROL_H
#define CNN_EMU_CONTROL_H

#ifdef __cplusplus
extern "C" {
#endif

/* Turns check mode on (1) or off (0), overriding CNN_EMU_CHECK. */
void cnn_emu_set_check(int on);
int cnn_emu_check_enabled(void);
/* The report of the last failed launch or copy on this host thread (or
 * of the sticky error, when there is one): what failed and where. Empty
 * when there is none. The text belongs to the emulation. */
const char *cnn_emu_last_report(void);
/* How many worker threads run blocks (CNN_EMU_WORKERS, default: the
 * hardware threads, at most 8). */
int cnn_emu_worker_count(void);

#ifdef __cplusplus
}
#endif

#endif /* CNN_EMU_CONTROL_H */
