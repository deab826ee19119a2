;; Inner products of int8 rows with an int16 query: the dense index's scan (see int8-dot-kernel.ts).
;; Codes are sign-extended to int16 and multiplied pairwise by i32x4.dot_i16x8_s (pmaddwd on x86), so a
;; 16-code chunk costs one load, two extends and two dots. Sums are exact in int32 while
;; dimension * 128 * max|query| < 2^31, which the caller ensures.
(module
  (memory (export "memory") 1)

  ;; out[r] = f32(sum_i codes[r * stride + i] * query[i]) * scales[r], for r < rows.
  ;; $stride (bytes a row) must be a positive multiple of 16 (rows padded to it) and $query must
  ;; hold $stride int16s, zero past the dimension (so that padding adds nothing). Scores leave as f32
  ;; so that ranking them in JS is one compare a row.
  ;; Two rows at a time: each query chunk is loaded once for both (measured: 1 row 23.2 ms, 2 rows
  ;; 22.0 ms, 4 rows 28.6 ms, 8 rows 79 ms for 1M 384-d rows; past 2 the accumulators spill).
  (func (export "scores") (param $codes i32) (param $scales i32) (param $rows i32) (param $stride i32) (param $query i32) (param $out i32)
    (local $pairsEnd i32) (local $second i32) (local $j i32) (local $q i32)
    (local $c v128) (local $d v128) (local $q0 v128) (local $q1 v128) (local $a v128) (local $b v128)
    (local.set $pairsEnd (i32.add (local.get $out) (i32.shl (i32.shr_u (local.get $rows) (i32.const 1)) (i32.const 3))))
    (block $pairsDone
      (loop $pair
        (br_if $pairsDone (i32.ge_u (local.get $out) (local.get $pairsEnd)))
        (local.set $second (i32.add (local.get $codes) (local.get $stride)))
        (local.set $a (v128.const i32x4 0 0 0 0))
        (local.set $b (v128.const i32x4 0 0 0 0))
        (local.set $j (i32.const 0))
        (local.set $q (local.get $query))
        (loop $chunk
          (local.set $q0 (v128.load (local.get $q)))
          (local.set $q1 (v128.load offset=16 (local.get $q)))
          (local.set $c (v128.load (i32.add (local.get $codes) (local.get $j))))
          (local.set $d (v128.load (i32.add (local.get $second) (local.get $j))))
          (local.set $a (i32x4.add
            (i32x4.add (local.get $a) (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_s (local.get $c)) (local.get $q0)))
            (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_s (local.get $c)) (local.get $q1))))
          (local.set $b (i32x4.add
            (i32x4.add (local.get $b) (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_s (local.get $d)) (local.get $q0)))
            (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_s (local.get $d)) (local.get $q1))))
          (local.set $q (i32.add (local.get $q) (i32.const 32)))
          (local.set $j (i32.add (local.get $j) (i32.const 16)))
          (br_if $chunk (i32.lt_u (local.get $j) (local.get $stride))))
        (f32.store (local.get $out) (call $score (local.get $a) (local.get $scales)))
        (f32.store offset=4 (local.get $out) (call $score (local.get $b) (i32.add (local.get $scales) (i32.const 4))))
        (local.set $codes (i32.add (local.get $second) (local.get $stride)))
        (local.set $scales (i32.add (local.get $scales) (i32.const 8)))
        (local.set $out (i32.add (local.get $out) (i32.const 8)))
        (br $pair)))
    ;; An odd last row.
    (if (i32.and (local.get $rows) (i32.const 1))
      (then
        (local.set $a (v128.const i32x4 0 0 0 0))
        (local.set $j (i32.const 0))
        (local.set $q (local.get $query))
        (loop $last
          (local.set $c (v128.load (i32.add (local.get $codes) (local.get $j))))
          (local.set $a (i32x4.add
            (i32x4.add (local.get $a) (i32x4.dot_i16x8_s (i16x8.extend_low_i8x16_s (local.get $c)) (v128.load (local.get $q))))
            (i32x4.dot_i16x8_s (i16x8.extend_high_i8x16_s (local.get $c)) (v128.load offset=16 (local.get $q)))))
          (local.set $q (i32.add (local.get $q) (i32.const 32)))
          (local.set $j (i32.add (local.get $j) (i32.const 16)))
          (br_if $last (i32.lt_u (local.get $j) (local.get $stride))))
        (f32.store (local.get $out) (call $score (local.get $a) (local.get $scales))))))

  ;; The four lanes' sum, times the row's scale at $scale.
  (func $score (param $sum v128) (param $scale i32) (result f32)
    (f32.mul (f32.convert_i32_s (call $lanes (local.get $sum))) (f32.load (local.get $scale))))

  (func $lanes (param $v v128) (result i32)
    (i32.add
      (i32.add (i32x4.extract_lane 0 (local.get $v)) (i32x4.extract_lane 1 (local.get $v)))
      (i32.add (i32x4.extract_lane 2 (local.get $v)) (i32x4.extract_lane 3 (local.get $v)))))

  ;; The memory-bandwidth bound for the benchmark: reads $bytes bytes (a multiple of 64) from $start as
  ;; fast as the machine streams them, one add a 16-byte load, and returns a checksum so that the
  ;; reads cannot be dropped.
  (func (export "stream") (param $start i32) (param $bytes i32) (result i32)
    (local $end i32) (local $a v128) (local $b v128) (local $c v128) (local $d v128)
    (local.set $end (i32.add (local.get $start) (local.get $bytes)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $start) (local.get $end)))
        (local.set $a (i32x4.add (local.get $a) (v128.load (local.get $start))))
        (local.set $b (i32x4.add (local.get $b) (v128.load offset=16 (local.get $start))))
        (local.set $c (i32x4.add (local.get $c) (v128.load offset=32 (local.get $start))))
        (local.set $d (i32x4.add (local.get $d) (v128.load offset=48 (local.get $start))))
        (local.set $start (i32.add (local.get $start) (i32.const 64)))
        (br $next)))
    (call $lanes (i32x4.add (i32x4.add (local.get $a) (local.get $b)) (i32x4.add (local.get $c) (local.get $d))))))
