;; The nearest codeword by L2 (the largest <x, c> - |c|^2/2), 16 codewords at a time in four f32x4
;; accumulators: the step that PQ training and encoding repeat for every sample and every row (see
;; pq-encoder.ts). A book is `sub` rows of `k` f32 (dimension-major: value i of codeword j at i * k + j),
;; then the k values -|c|^2/2; k is a multiple of 16.
(module
  (memory (export "memory") 1)

  (func $nearest (export "nearest") (param $book i32) (param $k i32) (param $sub i32) (param $point i32) (result i32)
    (local $rowBytes i32) (local $norms i32) (local $c i32) (local $row i32) (local $p i32) (local $end i32)
    (local $x v128) (local $a v128) (local $b v128) (local $e v128) (local $d v128)
    (local $best v128) (local $bestAt v128) (local $at v128)
    (local.set $rowBytes (i32.shl (local.get $k) (i32.const 2)))
    (local.set $norms (i32.add (local.get $book) (i32.mul (local.get $sub) (local.get $rowBytes))))
    (local.set $end (i32.add (local.get $point) (i32.shl (local.get $sub) (i32.const 2))))
    (local.set $best (f32x4.splat (f32.const -inf)))
    (local.set $at (v128.const i32x4 0 1 2 3))
    (loop $chunk
      (local.set $a (v128.load (i32.add (local.get $norms) (local.get $c))))
      (local.set $b (v128.load offset=16 (i32.add (local.get $norms) (local.get $c))))
      (local.set $e (v128.load offset=32 (i32.add (local.get $norms) (local.get $c))))
      (local.set $d (v128.load offset=48 (i32.add (local.get $norms) (local.get $c))))
      (local.set $row (i32.add (local.get $book) (local.get $c)))
      (local.set $p (local.get $point))
      (loop $dimension
        (local.set $x (v128.load32_splat (local.get $p)))
        (local.set $a (f32x4.add (local.get $a) (f32x4.mul (v128.load (local.get $row)) (local.get $x))))
        (local.set $b (f32x4.add (local.get $b) (f32x4.mul (v128.load offset=16 (local.get $row)) (local.get $x))))
        (local.set $e (f32x4.add (local.get $e) (f32x4.mul (v128.load offset=32 (local.get $row)) (local.get $x))))
        (local.set $d (f32x4.add (local.get $d) (f32x4.mul (v128.load offset=48 (local.get $row)) (local.get $x))))
        (local.set $row (i32.add (local.get $row) (local.get $rowBytes)))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (br_if $dimension (i32.lt_u (local.get $p) (local.get $end))))
      (call $keep (local.get $a) (local.get $at) (local.get $best) (local.get $bestAt))
      (local.set $bestAt) (local.set $best)
      (call $keep (local.get $b) (i32x4.add (local.get $at) (v128.const i32x4 4 4 4 4)) (local.get $best) (local.get $bestAt))
      (local.set $bestAt) (local.set $best)
      (call $keep (local.get $e) (i32x4.add (local.get $at) (v128.const i32x4 8 8 8 8)) (local.get $best) (local.get $bestAt))
      (local.set $bestAt) (local.set $best)
      (call $keep (local.get $d) (i32x4.add (local.get $at) (v128.const i32x4 12 12 12 12)) (local.get $best) (local.get $bestAt))
      (local.set $bestAt) (local.set $best)
      (local.set $at (i32x4.add (local.get $at) (v128.const i32x4 16 16 16 16)))
      (local.set $c (i32.add (local.get $c) (i32.const 64)))
      (br_if $chunk (i32.lt_u (local.get $c) (local.get $rowBytes))))
    (call $argmax (local.get $best) (local.get $bestAt)))

  ;; Per lane, the better of (score, index) and (best, bestAt); a tie keeps the earlier codeword.
  (func $keep (param $score v128) (param $index v128) (param $best v128) (param $bestAt v128) (result v128 v128)
    (local $better v128)
    (local.set $better (f32x4.gt (local.get $score) (local.get $best)))
    (v128.bitselect (local.get $score) (local.get $best) (local.get $better))
    (v128.bitselect (local.get $index) (local.get $bestAt) (local.get $better)))

  ;; The index of the best of four lanes (the lowest index among equal scores).
  (func $argmax (param $best v128) (param $at v128) (result i32)
    (local $score f32) (local $index i32) (local $s f32) (local $i i32)
    (local.set $score (f32x4.extract_lane 0 (local.get $best)))
    (local.set $index (i32x4.extract_lane 0 (local.get $at)))
    (local.set $s (f32x4.extract_lane 1 (local.get $best)))
    (local.set $i (i32x4.extract_lane 1 (local.get $at)))
    (if (i32.or (f32.gt (local.get $s) (local.get $score)) (i32.and (f32.eq (local.get $s) (local.get $score)) (i32.lt_u (local.get $i) (local.get $index))))
      (then (local.set $score (local.get $s)) (local.set $index (local.get $i))))
    (local.set $s (f32x4.extract_lane 2 (local.get $best)))
    (local.set $i (i32x4.extract_lane 2 (local.get $at)))
    (if (i32.or (f32.gt (local.get $s) (local.get $score)) (i32.and (f32.eq (local.get $s) (local.get $score)) (i32.lt_u (local.get $i) (local.get $index))))
      (then (local.set $score (local.get $s)) (local.set $index (local.get $i))))
    (local.set $s (f32x4.extract_lane 3 (local.get $best)))
    (local.set $i (i32x4.extract_lane 3 (local.get $at)))
    (if (i32.or (f32.gt (local.get $s) (local.get $score)) (i32.and (f32.eq (local.get $s) (local.get $score)) (i32.lt_u (local.get $i) (local.get $index))))
      (then (local.set $index (local.get $i))))
    (local.get $index))

  ;; out[n] = the nearest codeword of point n, for `count` points of `sub` f32 each (one book).
  (func (export "assign") (param $book i32) (param $k i32) (param $sub i32) (param $points i32) (param $count i32) (param $out i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $out) (i32.shl (local.get $count) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $out) (local.get $end)))
        (i32.store (local.get $out) (call $nearest (local.get $book) (local.get $k) (local.get $sub) (local.get $points)))
        (local.set $points (i32.add (local.get $points) (i32.shl (local.get $sub) (i32.const 2))))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (br $next))))

  ;; out[m] = the nearest codeword of sub-vector m of the vector at $point, for `books` consecutive books.
  (func (export "encode") (param $books i32) (param $k i32) (param $sub i32) (param $count i32) (param $point i32) (param $out i32)
    (local $bookBytes i32) (local $m i32)
    (local.set $bookBytes (i32.mul (i32.shl (local.get $k) (i32.const 2)) (i32.add (local.get $sub) (i32.const 1))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $m) (local.get $count)))
        (i32.store8 (i32.add (local.get $out) (local.get $m)) (call $nearest (local.get $books) (local.get $k) (local.get $sub) (local.get $point)))
        (local.set $books (i32.add (local.get $books) (local.get $bookBytes)))
        (local.set $point (i32.add (local.get $point) (i32.shl (local.get $sub) (i32.const 2))))
        (local.set $m (i32.add (local.get $m) (i32.const 1)))
        (br $next)))))
