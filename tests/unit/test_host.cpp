// Facts about the host: CPU flags from /proc/cpuinfo text, the CPUs this process may use,
// and handing freed heap back to the system at most once per interval.
#include <gtest/gtest.h>

#include "yamiro/system.hpp"

using namespace yamiro;

TEST(Cpu, ParsesX86Flags) {
  const auto cpu = parse_cpuinfo("processor\t: 0\nmodel name\t: Test CPU\nflags\t\t: fpu avx2 avx512f avx512_bf16 amx_bf16\n");
  EXPECT_EQ(cpu.model, "Test CPU");
  EXPECT_TRUE(cpu.avx2);
  EXPECT_TRUE(cpu.avx512f);
  EXPECT_TRUE(cpu.avx512_bf16);
  EXPECT_TRUE(cpu.amx_bf16);
  EXPECT_FALSE(cpu.neon);
  const auto old = parse_cpuinfo("model name\t: Old\nflags\t\t: fpu avx avx2\n");
  EXPECT_FALSE(old.avx512_bf16);
  EXPECT_TRUE(parse_cpuinfo("Features\t: fp asimd evtstrm\n").neon);
}

TEST(Cpu, AvailableCpusIsPositive) { EXPECT_GE(available_cpus(), 1); }

TEST(ReleaseFreeMemory, RunsAtMostOncePerInterval) {
#if defined(__GLIBC__)
  yamiro::release_free_memory(0.0);                       // whatever ran before: now it just ran
  EXPECT_FALSE(yamiro::release_free_memory(3600.0));      // within the hour: skipped
  EXPECT_TRUE(yamiro::release_free_memory(0.0));          // no minimum: runs
#else
  EXPECT_FALSE(yamiro::release_free_memory(0.0));
#endif
}
