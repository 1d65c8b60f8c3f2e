;; The fast structural scan of one object (json-scan.ts `scanObject`) with WebAssembly SIMD: the same results, found
;; 64 bytes at a time. Each block is classified into bit masks (quotes, backslashes, brackets, colons, commas, line
;; breaks); backslashes mark the bytes they escape; a prefix XOR of the unescaped quotes gives the bytes inside strings;
;; then only the brackets, commas and opening quotes outside strings are visited one by one, and colons are counted
;; by popcount. Whatever the JavaScript scanner would decide differently (a backslash outside strings, an escaped key
;; that may be "annotations", annotations that are not an object, nesting deeper than 1000) is handed back to it.
;;
;; Assembled by `npm run wasm` (tools/assemble-wasm.ts) into simd-object-scan-wasm.ts; a test checks the two match.
(module
  ;; 0..19: the result, five i32 (the object's end, its keys, whether it spans lines, and its annotations' start and end
  ;; or -1), relative to its start. 64..76: the token "annotations" with its quotes. From 128: the bytes scanned, the
  ;; caller's window of the body, and at least 64 bytes after it that a block may read (masked off).
  (memory (export "memory") 5)
  (data (i32.const 64) "\22annotations\22")

  ;; Masks of the 64-byte block being scanned, bit k for byte k.
  (global $quotes (mut i64) (i64.const 0))
  (global $backslashes (mut i64) (i64.const 0))
  (global $opens (mut i64) (i64.const 0))
  (global $closes (mut i64) (i64.const 0))
  (global $colons (mut i64) (i64.const 0))
  (global $commas (mut i64) (i64.const 0))
  (global $newlines (mut i64) (i64.const 0))

  ;; Classifies the 64 bytes at $p into the masks.
  (func $classify (param $p i32)
    (local $a v128) (local $b v128) (local $c v128) (local $d v128)
    (local $q v128) (local $bs v128) (local $ob v128) (local $osq v128) (local $cb v128) (local $csq v128) (local $colon v128) (local $comma v128) (local $lf v128) (local $cr v128)
    (local.set $q (i8x16.splat (i32.const 0x22)))
    (local.set $bs (i8x16.splat (i32.const 0x5c)))
    (local.set $ob (i8x16.splat (i32.const 0x7b)))
    (local.set $osq (i8x16.splat (i32.const 0x5b)))
    (local.set $cb (i8x16.splat (i32.const 0x7d)))
    (local.set $csq (i8x16.splat (i32.const 0x5d)))
    (local.set $colon (i8x16.splat (i32.const 0x3a)))
    (local.set $comma (i8x16.splat (i32.const 0x2c)))
    (local.set $lf (i8x16.splat (i32.const 0x0a)))
    (local.set $cr (i8x16.splat (i32.const 0x0d)))
    (local.set $a (v128.load (local.get $p)))
    (local.set $b (v128.load offset=16 (local.get $p)))
    (local.set $c (v128.load offset=32 (local.get $p)))
    (local.set $d (v128.load offset=48 (local.get $p)))
    (global.set $quotes (i64.or
        (i64.or
          (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $a) (local.get $q))))
          (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $b) (local.get $q)))) (i64.const 16)))
        (i64.or
          (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $c) (local.get $q)))) (i64.const 32))
          (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $d) (local.get $q)))) (i64.const 48)))))
    (global.set $backslashes (i64.or
        (i64.or
          (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $a) (local.get $bs))))
          (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $b) (local.get $bs)))) (i64.const 16)))
        (i64.or
          (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $c) (local.get $bs)))) (i64.const 32))
          (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $d) (local.get $bs)))) (i64.const 48)))))
    (global.set $opens (i64.or
        (i64.or
          (i64.extend_i32_u (i8x16.bitmask (v128.or (i8x16.eq (local.get $a) (local.get $ob)) (i8x16.eq (local.get $a) (local.get $osq)))))
          (i64.shl (i64.extend_i32_u (i8x16.bitmask (v128.or (i8x16.eq (local.get $b) (local.get $ob)) (i8x16.eq (local.get $b) (local.get $osq))))) (i64.const 16)))
        (i64.or
          (i64.shl (i64.extend_i32_u (i8x16.bitmask (v128.or (i8x16.eq (local.get $c) (local.get $ob)) (i8x16.eq (local.get $c) (local.get $osq))))) (i64.const 32))
          (i64.shl (i64.extend_i32_u (i8x16.bitmask (v128.or (i8x16.eq (local.get $d) (local.get $ob)) (i8x16.eq (local.get $d) (local.get $osq))))) (i64.const 48)))))
    (global.set $closes (i64.or
        (i64.or
          (i64.extend_i32_u (i8x16.bitmask (v128.or (i8x16.eq (local.get $a) (local.get $cb)) (i8x16.eq (local.get $a) (local.get $csq)))))
          (i64.shl (i64.extend_i32_u (i8x16.bitmask (v128.or (i8x16.eq (local.get $b) (local.get $cb)) (i8x16.eq (local.get $b) (local.get $csq))))) (i64.const 16)))
        (i64.or
          (i64.shl (i64.extend_i32_u (i8x16.bitmask (v128.or (i8x16.eq (local.get $c) (local.get $cb)) (i8x16.eq (local.get $c) (local.get $csq))))) (i64.const 32))
          (i64.shl (i64.extend_i32_u (i8x16.bitmask (v128.or (i8x16.eq (local.get $d) (local.get $cb)) (i8x16.eq (local.get $d) (local.get $csq))))) (i64.const 48)))))
    (global.set $colons (i64.or
        (i64.or
          (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $a) (local.get $colon))))
          (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $b) (local.get $colon)))) (i64.const 16)))
        (i64.or
          (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $c) (local.get $colon)))) (i64.const 32))
          (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $d) (local.get $colon)))) (i64.const 48)))))
    (global.set $commas (i64.or
        (i64.or
          (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $a) (local.get $comma))))
          (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $b) (local.get $comma)))) (i64.const 16)))
        (i64.or
          (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $c) (local.get $comma)))) (i64.const 32))
          (i64.shl (i64.extend_i32_u (i8x16.bitmask (i8x16.eq (local.get $d) (local.get $comma)))) (i64.const 48)))))
    (global.set $newlines (i64.or
        (i64.or
          (i64.extend_i32_u (i8x16.bitmask (v128.or (i8x16.eq (local.get $a) (local.get $lf)) (i8x16.eq (local.get $a) (local.get $cr)))))
          (i64.shl (i64.extend_i32_u (i8x16.bitmask (v128.or (i8x16.eq (local.get $b) (local.get $lf)) (i8x16.eq (local.get $b) (local.get $cr))))) (i64.const 16)))
        (i64.or
          (i64.shl (i64.extend_i32_u (i8x16.bitmask (v128.or (i8x16.eq (local.get $c) (local.get $lf)) (i8x16.eq (local.get $c) (local.get $cr))))) (i64.const 32))
          (i64.shl (i64.extend_i32_u (i8x16.bitmask (v128.or (i8x16.eq (local.get $d) (local.get $lf)) (i8x16.eq (local.get $d) (local.get $cr))))) (i64.const 48))))))

  ;; After an "annotations" key ending at $p: 0 when whitespace, a colon, whitespace and an opening bracket follow (the
  ;; brackets walked record the value's span); 1 when $limit comes first; 2 for anything else (JavaScript decides).
  (func $annotationsObjectFollows (param $p i32) (param $limit i32) (result i32)
    (local $colon i32) (local $byte i32)
    (loop $next
      (if (i32.ge_u (local.get $p) (local.get $limit)) (then (return (i32.const 1))))
      (local.set $byte (i32.load8_u (local.get $p)))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br_if $next (i32.or (i32.or (i32.eq (local.get $byte) (i32.const 0x20)) (i32.eq (local.get $byte) (i32.const 0x09)))
                           (i32.or (i32.eq (local.get $byte) (i32.const 0x0a)) (i32.eq (local.get $byte) (i32.const 0x0d)))))
      (if (i32.and (i32.eqz (local.get $colon)) (i32.eq (local.get $byte) (i32.const 0x3a)))
        (then (local.set $colon (i32.const 1)) (br $next))))
    (if (result i32) (i32.and (local.get $colon) (i32.or (i32.eq (local.get $byte) (i32.const 0x7b)) (i32.eq (local.get $byte) (i32.const 0x5b))))
      (then (i32.const 0))
      (else (i32.const 2))))

  ;; Whether the key token opening at $from (a quote) is "annotations": 1 or 0; -1 when it is longer and holds an
  ;; escape (JavaScript decides); -2 when it does not end before $limit.
  (func $annotationsKey (param $from i32) (param $limit i32) (result i32)
    (local $i i32) (local $byte i32) (local $escaped i32)
    (local.set $i (i32.add (local.get $from) (i32.const 1)))
    (block $closed
      (loop $next
        (if (i32.ge_u (local.get $i) (local.get $limit)) (then (return (i32.const -2))))
        (local.set $byte (i32.load8_u (local.get $i)))
        (br_if $closed (i32.eq (local.get $byte) (i32.const 0x22)))
        (if (i32.eq (local.get $byte) (i32.const 0x5c))
          (then
            (local.set $escaped (i32.const 1))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    ;; $i is at the closing quote: the token is [$from, $i + 1).
    (local.set $i (i32.sub (i32.add (local.get $i) (i32.const 1)) (local.get $from)))
    (if (i32.lt_u (local.get $i) (i32.const 13)) (then (return (i32.const 0))))
    (if (i32.gt_u (local.get $i) (i32.const 13)) (then (return (i32.sub (i32.const 0) (local.get $escaped)))))
    (i32.and
      (i64.eq (i64.load (local.get $from)) (i64.load (i32.const 64)))
      (i32.and
        (i32.eq (i32.load offset=8 (local.get $from)) (i32.load (i32.const 72)))
        (i32.eq (i32.load8_u offset=12 (local.get $from)) (i32.load8_u (i32.const 76))))))

  ;; Scans the object whose opening brace is at $start, with bytes up to $limit (and 64 after it readable). Returns 0
  ;; with the result at 0..19; 1 when the object does not end before $limit; 2 when JavaScript must decide (not an
  ;; object, nested too deep, a backslash outside strings, an escaped key that may be "annotations", annotations that
  ;; are not an object or an array).
  (func (export "scanObject") (param $start i32) (param $limit i32) (result i32)
    (local $p i32) (local $valid i64) (local $escaped i64) (local $carry i64) (local $inString i64) (local $stringCarry i64)
    (local $x i64) (local $walk i64) (local $bit i64) (local $position i32) (local $byte i32) (local $before i64)
    (local $depth i32) (local $keys i32) (local $multiline i32) (local $expectKey i32) (local $atAnnotations i32)
    (local $annotationsStart i32) (local $annotationsEnd i32) (local $memberStart i32) (local $key i32)
    (local $outside i64) (local $backslash i64) (local $unescapedQuotes i64)
    (if (i32.ne (i32.load8_u (local.get $start)) (i32.const 0x7b)) (then (return (i32.const 2))))
    (local.set $annotationsStart (i32.const -1))
    (local.set $annotationsEnd (i32.const -1))
    (local.set $memberStart (i32.const -1))
    (local.set $p (local.get $start))
    (loop $block
      (if (i32.ge_u (local.get $p) (local.get $limit)) (then (return (i32.const 1))))
      (call $classify (local.get $p))
      (local.set $valid
        (if (result i64) (i32.ge_u (i32.sub (local.get $limit) (local.get $p)) (i32.const 64))
          (then (i64.const -1))
          (else (i64.sub (i64.shl (i64.const 1) (i64.extend_i32_u (i32.sub (local.get $limit) (local.get $p)))) (i64.const 1)))))
      ;; Escaped bytes: each backslash not itself escaped escapes the byte after it, maybe the next block's first.
      (local.set $escaped (local.get $carry))
      (local.set $carry (i64.const 0))
      (local.set $backslash (i64.and (global.get $backslashes) (local.get $valid)))
      (block $escapesDone
        (loop $escape
          (br_if $escapesDone (i64.eqz (local.get $backslash)))
          (local.set $bit (i64.ctz (local.get $backslash)))
          (local.set $backslash (i64.and (local.get $backslash) (i64.sub (local.get $backslash) (i64.const 1))))
          (if (i64.eqz (i64.and (local.get $escaped) (i64.shl (i64.const 1) (local.get $bit))))
            (then
              (if (i64.eq (local.get $bit) (i64.const 63))
                (then (local.set $carry (i64.const 1)))
                (else (local.set $escaped (i64.or (local.get $escaped) (i64.shl (i64.const 2) (local.get $bit))))))))
          (br $escape)))
      ;; Inside a string: from an unescaped quote up to, not including, the next (prefix XOR).
      (local.set $unescapedQuotes (i64.and (i64.and (global.get $quotes) (i64.xor (local.get $escaped) (i64.const -1))) (local.get $valid)))
      (local.set $x (local.get $unescapedQuotes))
      (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 1))))
      (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 2))))
      (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 4))))
      (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 8))))
      (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 16))))
      (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 32))))
      (local.set $inString (i64.xor (local.get $x) (local.get $stringCarry)))
      (local.set $stringCarry (i64.shr_s (local.get $inString) (i64.const 63)))
      (local.set $outside (i64.and (i64.xor (local.get $inString) (i64.const -1)) (local.get $valid)))
      ;; A backslash outside strings escapes nothing for JavaScript's scanner (and is not JSON): it decides.
      (if (i64.ne (i64.and (global.get $backslashes) (local.get $outside)) (i64.const 0)) (then (return (i32.const 2))))
      ;; The tokens to visit: brackets and commas outside strings, and opening quotes (keys at depth 1).
      (local.set $walk
        (i64.or
          (i64.and (i64.or (i64.or (global.get $opens) (global.get $closes)) (global.get $commas)) (local.get $outside))
          (i64.and (local.get $unescapedQuotes) (local.get $inString))))
      (block $walked
        (loop $token
          (br_if $walked (i64.eqz (local.get $walk)))
          (local.set $bit (i64.ctz (local.get $walk)))
          (local.set $walk (i64.and (local.get $walk) (i64.sub (local.get $walk) (i64.const 1))))
          (local.set $position (i32.add (local.get $p) (i32.wrap_i64 (local.get $bit))))
          (local.set $byte (i32.load8_u (local.get $position)))
          (if (i32.eq (local.get $byte) (i32.const 0x22))
            (then
              (if (i32.eq (local.get $depth) (i32.const 1))
                (then
                  (if (local.get $expectKey)
                    (then
                      (local.set $key (call $annotationsKey (local.get $position) (local.get $limit)))
                      (if (i32.eq (local.get $key) (i32.const -2)) (then (return (i32.const 1))))
                      (if (i32.lt_s (local.get $key) (i32.const 0)) (then (return (i32.const 2))))
                      (if (local.get $key)
                        (then
                          (local.set $key (call $annotationsObjectFollows (i32.add (local.get $position) (i32.const 13)) (local.get $limit)))
                          (if (local.get $key) (then (return (local.get $key))))
                          (local.set $atAnnotations (i32.const 1)))
                        (else (local.set $atAnnotations (i32.const 0))))
                      (local.set $expectKey (i32.const 0))))))
              (br $token)))
          (if (i32.or (i32.eq (local.get $byte) (i32.const 0x7b)) (i32.eq (local.get $byte) (i32.const 0x5b)))
            (then
              (if (i32.and (i32.eq (local.get $depth) (i32.const 1)) (local.get $atAnnotations))
                (then (local.set $memberStart (local.get $position))))
              (if (i32.ge_u (local.get $depth) (i32.const 1000)) (then (return (i32.const 2))))
              (local.set $depth (i32.add (local.get $depth) (i32.const 1)))
              (if (i32.eq (local.get $depth) (i32.const 1)) (then (local.set $expectKey (i32.const 1))))
              (br $token)))
          (if (i32.eq (local.get $byte) (i32.const 0x2c))
            (then
              (if (i32.eq (local.get $depth) (i32.const 1))
                (then (local.set $expectKey (i32.const 1))))
              (br $token)))
          ;; A closing bracket or brace.
          (local.set $depth (i32.sub (local.get $depth) (i32.const 1)))
          (if (i32.eqz (local.get $depth))
            (then
              ;; The bytes of this block up to and including the brace.
              (local.set $before (i64.sub (i64.shl (i64.shl (i64.const 1) (local.get $bit)) (i64.const 1)) (i64.const 1)))
              (local.set $keys (i32.add (local.get $keys)
                (i32.wrap_i64 (i64.popcnt (i64.and (i64.and (global.get $colons) (local.get $outside)) (local.get $before))))))
              (if (i64.ne (i64.and (i64.and (global.get $newlines) (local.get $outside)) (local.get $before)) (i64.const 0))
                (then (local.set $multiline (i32.const 1))))
              (i32.store (i32.const 0) (i32.sub (i32.add (local.get $position) (i32.const 1)) (local.get $start)))
              (i32.store (i32.const 4) (local.get $keys))
              (i32.store (i32.const 8) (local.get $multiline))
              (i32.store (i32.const 12) (local.get $annotationsStart))
              (i32.store (i32.const 16) (local.get $annotationsEnd))
              (return (i32.const 0))))
          (if (i32.and (i32.and (i32.eq (local.get $depth) (i32.const 1)) (local.get $atAnnotations)) (i32.ge_s (local.get $memberStart) (i32.const 0)))
            (then
              (local.set $annotationsStart (i32.sub (local.get $memberStart) (local.get $start)))
              (local.set $annotationsEnd (i32.sub (i32.add (local.get $position) (i32.const 1)) (local.get $start)))
              (local.set $atAnnotations (i32.const 0))))
          (br $token)))
      (local.set $keys (i32.add (local.get $keys) (i32.wrap_i64 (i64.popcnt (i64.and (global.get $colons) (local.get $outside))))))
      (if (i64.ne (i64.and (global.get $newlines) (local.get $outside)) (i64.const 0)) (then (local.set $multiline (i32.const 1))))
      (local.set $p (i32.add (local.get $p) (i32.const 64)))
      (br $block))
    (i32.const 1))
)
