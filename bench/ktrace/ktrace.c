// ktrace: a CUPTI kernel tracer to LD_PRELOAD into any CUDA program (a Go
// binary on XLA, or Python with PyTorch alike), so that both sides of a GPU
// comparison are timed kernel by kernel with one method. With KTRACE_OUT set
// to a path prefix, each process that runs kernels writes
// PREFIX.<pid>.tsv: one line per kernel, "start_ns<TAB>duration_ns<TAB>name".
// bench/ktrace/summary.py turns a trace into a per-step breakdown.
//
// Built on the GPU machine by bench/gpu_profile.sh: gcc -shared -fPIC, with
// KREC set to the newest kernel record type the CUPTI headers declare, and
// linked against that machine's libcupti.
#include <cupti.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define BUFFER_BYTES (16u << 20)

static FILE *trace;

static void CUPTIAPI request_buffer(uint8_t **buf, size_t *size, size_t *max_records) {
	*buf = (uint8_t *)aligned_alloc(8, BUFFER_BYTES);
	*size = BUFFER_BYTES;
	*max_records = 0;
}

static void open_trace(void) {
	char path[4096];
	snprintf(path, sizeof path, "%s.%d.tsv", getenv("KTRACE_OUT"), (int)getpid());
	trace = fopen(path, "w");
}

static void CUPTIAPI buffer_done(CUcontext ctx, uint32_t stream, uint8_t *buf, size_t size, size_t valid) {
	CUpti_Activity *rec = NULL;
	(void)ctx, (void)stream, (void)size;
	while (cuptiActivityGetNextRecord(buf, valid, &rec) == CUPTI_SUCCESS) {
		if (rec->kind != CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL) {
			continue;
		}
		const KREC *k = (const KREC *)rec;
		if (!trace) {
			open_trace();
		}
		if (trace) {
			fprintf(trace, "%llu\t%llu\t%s\n", (unsigned long long)k->start,
			        (unsigned long long)(k->end - k->start), k->name);
		}
	}
	if (trace) {
		fflush(trace);
	}
	free(buf);
}

// flusher forces delivery of every record, finished buffer or not, four
// times a second: a Go program leaves without running C destructors, so the
// records still in a buffer at exit would be lost.
static void *flusher(void *arg) {
	(void)arg;
	for (;;) {
		usleep(250000);
		cuptiActivityFlushAll(1);
	}
	return NULL;
}

__attribute__((constructor)) static void ktrace_start(void) {
	if (!getenv("KTRACE_OUT")) {
		return;
	}
	cuptiActivityRegisterCallbacks(request_buffer, buffer_done);
	cuptiActivityEnable(CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL);
	pthread_t thread;
	pthread_create(&thread, NULL, flusher, NULL);
	pthread_detach(thread);
}

__attribute__((destructor)) static void ktrace_stop(void) {
	if (!getenv("KTRACE_OUT")) {
		return;
	}
	cuptiActivityFlushAll(1);
	if (trace) {
		fclose(trace);
	}
}
