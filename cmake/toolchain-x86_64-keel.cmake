# SPDX-License-Identifier: MIT
# toolchain-x86_64-keel.cmake - the freestanding x86_64 toolchain for the
# hypervisor and the in-guest test kernels. The host's gcc and binutils are
# x86_64 already, so they serve, with flags that leave the hosted world:
# no libc, no red zone (interrupts push onto the stack), no SSE in hypervisor
# code (guest FPU state stays untouched), no PIC (Keel is linked at a fixed
# address), frame pointers kept for backtraces.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(CMAKE_C_COMPILER gcc)
set(CMAKE_ASM_COMPILER gcc)
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

set(KEEL_FREESTANDING_FLAGS
    "-ffreestanding -fno-builtin -fno-stack-protector -fno-pic -fno-pie \
-mno-red-zone -mno-mmx -mno-sse -mno-sse2 -mno-avx -mgeneral-regs-only \
-fno-omit-frame-pointer -fno-tree-loop-distribute-patterns -fno-asynchronous-unwind-tables")
set(CMAKE_C_FLAGS_INIT "${KEEL_FREESTANDING_FLAGS}")
set(CMAKE_ASM_FLAGS_INIT "-fno-pic")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-nostdlib -static -no-pie -Wl,--build-id=none -Wl,-z,max-page-size=4096 -Wl,-z,noexecstack")
