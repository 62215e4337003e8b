// Scale fitting shared by the k-quant quantizers (Q2_K, Q3_K, Q4_K, Q5_K, Q6_K): the searches ggml's reference
// quantizers run (make_qkx2_quants, make_qx_quants, make_q3_quants in ggml-quants.c), written from their description.
// They only choose codes; any choice decodes correctly, so these affect quality, never format correctness.
#include <algorithm>
#include <cmath>

#include "tensor/quant_impl.h"

namespace ts::quant {

int round_even(float v) { return static_cast<int>(std::nearbyint(v)); }

float fit_scale_min(int n, int nmax, const float* x, const float* w, uint8_t* L, float* min_out, float rmin,
                    float rdelta, int nstep, bool use_abs) {
  float lo = x[0], hi = x[0], sum_w = 0.0f, sum_x = 0.0f;
  for (int i = 0; i < n; ++i) {
    lo = std::min(lo, x[i]);
    hi = std::max(hi, x[i]);
    sum_w += w[i];
    sum_x += w[i] * x[i];
  }
  if (lo > 0.0f) lo = 0.0f;  // the min is subtracted: a positive offset is never stored
  if (hi == lo) {
    std::fill(L, L + n, uint8_t{0});
    *min_out = -lo;
    return 0.0f;
  }
  auto error_of = [&](float scale, float offset, const uint8_t* codes) {
    float e = 0.0f;
    for (int i = 0; i < n; ++i) {
      const float diff = scale * codes[i] + offset - x[i];
      e += w[i] * (use_abs ? std::fabs(diff) : diff * diff);
    }
    return e;
  };
  float iscale = nmax / (hi - lo);
  float scale = 1.0f / iscale;
  for (int i = 0; i < n; ++i) L[i] = static_cast<uint8_t>(std::clamp(round_even(iscale * (x[i] - lo)), 0, nmax));
  float best = error_of(scale, lo, L);
  uint8_t trial[kQKK];
  for (int k = 0; k <= nstep; ++k) {
    iscale = (rmin + rdelta * k + nmax) / (hi - lo);
    float sum_l = 0.0f, sum_l2 = 0.0f, sum_xl = 0.0f;
    for (int i = 0; i < n; ++i) {
      const int l = std::clamp(round_even(iscale * (x[i] - lo)), 0, nmax);
      trial[i] = static_cast<uint8_t>(l);
      sum_l += w[i] * l;
      sum_l2 += w[i] * l * l;
      sum_xl += w[i] * l * x[i];
    }
    // Weighted least squares for x ~ s*l + m over these codes.
    const float det = sum_w * sum_l2 - sum_l * sum_l;
    if (det <= 0.0f) continue;
    float s = (sum_w * sum_xl - sum_x * sum_l) / det;
    float m = (sum_l2 * sum_x - sum_l * sum_xl) / det;
    if (m > 0.0f) {
      m = 0.0f;
      s = sum_xl / sum_l2;
    }
    const float e = error_of(s, m, trial);
    if (e < best) {
      std::copy(trial, trial + n, L);
      best = e;
      scale = s;
      lo = m;
    }
  }
  *min_out = -lo;
  return scale;
}

float fit_scale_symmetric(int n, int nmax, const float* x, int8_t* L) {
  float amax = 0.0f, max = 0.0f;
  for (int i = 0; i < n; ++i)
    if (std::fabs(x[i]) > amax) {
      amax = std::fabs(x[i]);
      max = x[i];
    }
  if (amax < 1e-15f) {
    std::fill(L, L + n, int8_t{0});
    return 0.0f;
  }
  // Weighted (by x^2) least-squares scale for the codes a given inverse scale produces: sum w x l / sum w l^2.
  auto codes_and_sums = [&](float iscale, int8_t* out, float* sumlx, float* suml2) {
    *sumlx = *suml2 = 0.0f;
    for (int i = 0; i < n; ++i) {
      const int l = std::clamp(round_even(iscale * x[i]), -nmax, nmax - 1);
      if (out) out[i] = static_cast<int8_t>(l);
      const float w = x[i] * x[i];
      *sumlx += w * x[i] * l;
      *suml2 += w * l * l;
    }
  };
  float sumlx, suml2;
  codes_and_sums(-nmax / max, L, &sumlx, &suml2);
  float scale = suml2 > 0.0f ? sumlx / suml2 : 0.0f;
  float best = scale * sumlx;
  for (int k = -9; k <= 9; ++k) {
    if (k == 0) continue;
    const float iscale = -(nmax + 0.1f * k) / max;
    codes_and_sums(iscale, nullptr, &sumlx, &suml2);
    if (suml2 > 0.0f && sumlx * sumlx > best * suml2) {
      codes_and_sums(iscale, L, &sumlx, &suml2);
      scale = sumlx / suml2;
      best = scale * sumlx;
    }
  }
  for (int i = 0; i < n; ++i) L[i] = static_cast<int8_t>(L[i] + nmax);
  return scale;
}

float fit_scale_q3(int n, int nmax, const float* x, int8_t* L) {
  float amax = 0.0f, max = 0.0f;
  for (int i = 0; i < n; ++i)
    if (std::fabs(x[i]) > amax) {
      amax = std::fabs(x[i]);
      max = x[i];
    }
  if (amax < 1e-15f) {
    std::fill(L, L + n, int8_t{0});
    return 0.0f;
  }
  const float iscale = -nmax / max;
  float sumlx = 0.0f, suml2 = 0.0f;
  for (int i = 0; i < n; ++i) {
    const int l = std::clamp(round_even(iscale * x[i]), -nmax, nmax - 1);
    L[i] = static_cast<int8_t>(l);
    const float w = x[i] * x[i];
    sumlx += w * x[i] * l;
    suml2 += w * l * l;
  }
  for (int pass = 0; pass < 5; ++pass) {
    int changed = 0;
    for (int i = 0; i < n; ++i) {
      const float w = x[i] * x[i];
      float slx = sumlx - w * x[i] * L[i];
      if (slx <= 0.0f) continue;
      float sl2 = suml2 - w * L[i] * L[i];
      // the code that would be best for element i given the others' fit
      const int l = std::clamp(round_even(x[i] * sl2 / slx), -nmax, nmax - 1);
      if (l == L[i]) continue;
      slx += w * x[i] * l;
      sl2 += w * l * l;
      if (sl2 > 0.0f && slx * slx * suml2 > sumlx * sumlx * sl2) {
        L[i] = static_cast<int8_t>(l);
        sumlx = slx;
        suml2 = sl2;
        ++changed;
      }
    }
    if (!changed) break;
  }
  for (int i = 0; i < n; ++i) L[i] = static_cast<int8_t>(L[i] + nmax);
  return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
}


void pack_k4_scales(const float* scales, const float* mins, float max_scale, float max_min, uint8_t* out,
                    uint16_t* d, uint16_t* dmin) {
  const float inv_scale = max_scale > 0.0f ? 63.0f / max_scale : 0.0f;
  const float inv_min = max_min > 0.0f ? 63.0f / max_min : 0.0f;
  std::memset(out, 0, 12);
  for (int j = 0; j < 8; ++j) {
    const auto ls = static_cast<uint8_t>(std::clamp(round_even(inv_scale * scales[j]), 0, 63));
    const auto lm = static_cast<uint8_t>(std::clamp(round_even(inv_min * mins[j]), 0, 63));
    if (j < 4) {
      out[j] = ls;
      out[j + 4] = lm;
    } else {
      out[j + 4] = static_cast<uint8_t>((ls & 0xF) | ((lm & 0xF) << 4));
      out[j - 4] |= static_cast<uint8_t>((ls >> 4) << 6);
      out[j] |= static_cast<uint8_t>((lm >> 4) << 6);
    }
  }
  *d = float_to_half(max_scale / 63.0f);
  *dmin = float_to_half(max_min / 63.0f);
}

void quantize_k4_codes(const float* x, int nmax, float rmin, float rdelta, int nstep, uint8_t* scales12, uint16_t* d,
                       uint16_t* dmin, uint8_t* L) {
  float scales[8], mins[8];
  float max_scale = 0.0f, max_min = 0.0f;
  for (int j = 0; j < 8; ++j) {
    const float* xj = x + 32 * j;
    float sum_x2 = 0.0f;
    for (int l = 0; l < 32; ++l) sum_x2 += xj[l] * xj[l];
    const float rms = std::sqrt(sum_x2 / 32.0f);
    float w[32];
    for (int l = 0; l < 32; ++l) w[l] = rms + std::fabs(xj[l]);
    scales[j] = fit_scale_min(32, nmax, xj, w, L + 32 * j, &mins[j], rmin, rdelta, nstep, false);
    max_scale = std::max(max_scale, scales[j]);
    max_min = std::max(max_min, mins[j]);
  }
  pack_k4_scales(scales, mins, max_scale, max_min, scales12, d, dmin);
  const float df = half_to_float(*d), dminf = half_to_float(*dmin);
  for (int j = 0; j < 8; ++j) {
    uint8_t sc, m;
    k4_scale_min(j, scales12, &sc, &m);
    const float ds = df * sc;
    if (ds == 0.0f) continue;
    const float dm = dminf * m;
    for (int l = 0; l < 32; ++l)
      L[32 * j + l] = static_cast<uint8_t>(std::clamp(round_even((x[32 * j + l] + dm) / ds), 0, nmax));
  }
}

}  // namespace ts::quant
