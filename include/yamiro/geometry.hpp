// Index arithmetic shared by the tiler and the networks that pad by reflection.
#pragma once

namespace yamiro {

// Maps a coordinate outside [0, n) back inside by mirroring without repeating the edge
// pixel (reflect-101, as numpy's 'reflect'); valid for any offset. Requires n >= 1.
// Pure function, thread-safe.
inline int mirror_index(int i, int n) {
  if (n == 1) return 0;
  const int period = 2 * (n - 1);
  int m = i % period;
  if (m < 0) m += period;
  return m < n ? m : period - m;
}

}  // namespace yamiro
