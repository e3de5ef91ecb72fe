/* cnn_emu/launch.h - kernel launches (what CNN_LAUNCH expands to under
 * emulation). The arguments are converted to the kernel's parameter types
 * and kept by value for the launch; every emulated thread calls the kernel
 * with its own copies, as on a GPU. The launch runs to completion before
 * this returns (src/cuda/emu/launch.cpp) and its cudaError_t is returned. */
#ifndef CNN_EMU_LAUNCH_H
#define CNN_EMU_LAUNCH_H

#include <tuple>
#include <type_traits>
#include <utility>

#include "runtime_api.h"
#include "types.h"

namespace cnn_emu {

/* One launch, with the kernel's call type-erased: body(closure) runs the
 * kernel once for the calling emulated thread. */
struct launch_spec {
    const char *name;
    uintptr_t kernel;
    dim3 grid;
    dim3 block;
    size_t dynamic_shared;
    cudaStream_t stream;
    void (*body)(void *closure);
    void *closure;
};

cudaError_t launch_kernel(const launch_spec &spec);

template <typename... P> struct kernel_call {
    void (*kernel)(P...);
    std::tuple<typename std::decay<P>::type...> arguments;

    static void run(void *closure)
    {
        kernel_call &call = *static_cast<kernel_call *>(closure);
        std::apply(call.kernel, call.arguments);
    }
};

template <typename... P, typename... A>
cudaError_t launch(const char *name, void (*kernel)(P...), dim3 grid,
                   dim3 block, size_t dynamic_shared, cudaStream_t stream,
                   A &&...arguments)
{
    static_assert(sizeof...(P) == sizeof...(A),
                  "CNN_LAUNCH: the kernel takes a different number of arguments");
    kernel_call<P...> call{kernel, {std::forward<A>(arguments)...}};
    launch_spec spec{name,  kernel_key(kernel), grid, block, dynamic_shared,
                     stream, &kernel_call<P...>::run, &call};
    return launch_kernel(spec);
}

} // namespace cnn_emu

#endif /* CNN_EMU_LAUNCH_H */
