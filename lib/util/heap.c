/* The bytes the process holds in live heap allocations: what "memory flat"
 * means for a soak test (RSS also counts the allocator's free lists and
 * fragmentation). glibc's mallinfo2; the sanitizer's own count under ASan,
 * whose allocator replaces malloc. */
#include <malloc.h>
#include "sipwarden/common.h"

#if defined(__SANITIZE_ADDRESS__)
#define SW_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SW_ASAN 1
#endif
#endif

#ifdef SW_ASAN
/* from the sanitizer runtime (sanitizer/allocator_interface.h, which not
 * every compiler installs) */
size_t __sanitizer_get_current_allocated_bytes(void);
#endif

size_t sw_heap_in_use(void)
{
#ifdef SW_ASAN
	return __sanitizer_get_current_allocated_bytes();
#else
	struct mallinfo2 mi = mallinfo2();
	return mi.uordblks + mi.hblkhd;
#endif
}
