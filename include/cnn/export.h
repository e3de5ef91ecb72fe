/* cnn/export.h - symbol export and C linkage macros shared by every public
 * header. Not useful on its own; include <cnn/cnn.h>.
 *
 * The library is built with hidden visibility; only declarations marked
 * CNN_API are exported from libcnn.so. The same header serves the static
 * library, where the attribute is harmless.
 */
#ifndef CNN_EXPORT_H
#define CNN_EXPORT_H

#if defined(_WIN32)
#  define CNN_API
#elif defined(__GNUC__) || defined(__clang__)
#  define CNN_API __attribute__((visibility("default")))
#else
#  define CNN_API
#endif

#ifdef __cplusplus
#  define CNN_BEGIN_DECLS extern "C" {
#  define CNN_END_DECLS }
#else
#  define CNN_BEGIN_DECLS
#  define CNN_END_DECLS
#endif

#endif /* CNN_EXPORT_H */
