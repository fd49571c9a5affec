// Elementwise arithmetic with NumPy broadcasting, unary maps, and their vector-Jacobian products.

/// The broadcast shape of two shapes (NumPy rules), or `nil` when they are incompatible.
public func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int]? {
    let r = Swift.max(a.count, b.count)
    var out = [Int](repeating: 1, count: r)
    for i in 0..<r {
        let da = i < r - a.count ? 1 : a[i - (r - a.count)]
        let db = i < r - b.count ? 1 : b[i - (r - b.count)]
        if da == db || db == 1 { out[i] = da } else if da == 1 { out[i] = db } else { return nil }
    }
    return out
}

extension Tensor {
    /// `op(self, other)` elementwise with broadcasting, not recorded.
    @usableFromInline
    func combined(_ op: BinaryOp, _ other: Tensor, _ name: String) -> Tensor {
        if shape == other.shape {
            let out = Tensor(uninitializedShape: shape)
            Scalar.binary(op, storage.pointer, 1, other.storage.pointer, 1, out.storage.pointer, count)
            return out
        }
        guard let outShape = broadcastShape(shape, other.shape) else {
            requirementFailure("\(name): shapes \(shape) and \(other.shape) cannot be broadcast together")
        }
        let out = Tensor(uninitializedShape: outShape)
        let r = outShape.count
        if out.count == 0 { return out }
        // Strides of each operand in its own storage, 0 along broadcast axes.
        func strides(_ s: [Int]) -> [Int] {
            var st = [Int](repeating: 0, count: r)
            var acc = 1
            for i in stride(from: s.count - 1, through: 0, by: -1) {
                let axis = i + r - s.count
                st[axis] = s[i] == 1 && outShape[axis] != 1 ? 0 : acc
                acc *= s[i]
            }
            return st
        }
        let sa = strides(shape), sb = strides(other.shape)
        let inner = r == 0 ? 1 : outShape[r - 1]
        let ia = r == 0 ? 0 : (sa[r - 1] == 0 ? 0 : 1), ib = r == 0 ? 0 : (sb[r - 1] == 0 ? 0 : 1)
        let outer = out.count / Swift.max(inner, 1)
        var index = [Int](repeating: 0, count: Swift.max(r - 1, 0))
        var oa = 0, ob = 0
        let pa = storage.pointer, pb = other.storage.pointer, po = out.storage.pointer
        for row in 0..<outer {
            Scalar.binary(op, pa + oa, ia, pb + ob, ib, po + row * inner, inner)
            // Advance the multi-index over the outer axes.
            var axis = r - 2
            while axis >= 0 {
                index[axis] += 1
                oa += sa[axis]; ob += sb[axis]
                if index[axis] < outShape[axis] { break }
                oa -= sa[axis] * outShape[axis]; ob -= sb[axis] * outShape[axis]
                index[axis] = 0
                axis -= 1
            }
        }
        return out
    }

    /// Sums a broadcast cotangent back down to `target` shape.
    @usableFromInline
    func unbroadcast(to target: [Int]) -> Tensor {
        if shape == target { return self }
        var t = self.detached
        let extra = rank - target.count
        if extra > 0 { t = t.sum(alongAxes: Array(0..<extra)) }
        let axes = (0..<target.count).filter { target[$0] == 1 && t.shape[$0] != 1 }
        if !axes.isEmpty { t = t.sum(alongAxes: axes, keepingDimensions: true) }
        return t.reshaped(target)
    }

    /// `self + other` without recording (used by the tape itself).
    @usableFromInline
    func adding(_ other: Tensor) -> Tensor { detached.combined(.add, other.detached, "add") }

    /// Elementwise sum with broadcasting.
    ///
    /// - Precondition: shapes that broadcast together (as for `-`, `*`, `/` and `maximum`). Stops with a message otherwise.
    public static func + (a: Tensor, b: Tensor) -> Tensor {
        a.combined(.add, b, "add").recorded([a, b]) { g in [g.unbroadcast(to: a.shape), g.unbroadcast(to: b.shape)] }
    }
    /// Elementwise difference with broadcasting.
    public static func - (a: Tensor, b: Tensor) -> Tensor {
        a.combined(.sub, b, "subtract").recorded([a, b]) { g in [g.unbroadcast(to: a.shape), (-g).unbroadcast(to: b.shape)] }
    }
    /// Elementwise product with broadcasting.
    public static func * (a: Tensor, b: Tensor) -> Tensor {
        let ad = a.detached, bd = b.detached
        return a.combined(.mul, b, "multiply").recorded([a, b]) { g in
            [a.isRecorded ? (g * bd).unbroadcast(to: a.shape) : nil,
             b.isRecorded ? (g * ad).unbroadcast(to: b.shape) : nil]
        }
    }
    /// Elementwise quotient with broadcasting.
    public static func / (a: Tensor, b: Tensor) -> Tensor {
        let ad = a.detached, bd = b.detached
        return a.combined(.div, b, "divide").recorded([a, b]) { g in
            [a.isRecorded ? (g / bd).unbroadcast(to: a.shape) : nil,
             b.isRecorded ? (-(g * ad) / (bd * bd)).unbroadcast(to: b.shape) : nil]
        }
    }
    /// Elementwise maximum with broadcasting (the cotangent goes to the larger operand; ties to `a`);
    /// NaN in either operand gives NaN.
    public static func maximum(_ a: Tensor, _ b: Tensor) -> Tensor {
        let ad = a.detached, bd = b.detached
        return a.combined(.max, b, "maximum").recorded([a, b]) { g in
            let fb = bd.combined(.sub, ad, "maximum").map(.step)  // 1 where b > a strictly
            return [(g * (1 - fb)).unbroadcast(to: a.shape), (g * fb).unbroadcast(to: b.shape)]
        }
    }

    /// Elementwise negation.
    public static prefix func - (a: Tensor) -> Tensor {
        a.map(.neg).recorded([a]) { g in [-g] }
    }

    // Scalar operands: an affine kernel, no broadcasting machinery.
    @usableFromInline
    func affine(_ scale: Scalar, _ shift: Scalar) -> Tensor {
        let out = Tensor(uninitializedShape: shape)
        Scalar.affine(storage.pointer, scale, shift, out.storage.pointer, count)
        return out
    }

    public static func + (a: Tensor, s: Scalar) -> Tensor { a.affine(1, s).recorded([a]) { g in [g] } }
    public static func + (s: Scalar, a: Tensor) -> Tensor { a + s }
    public static func - (a: Tensor, s: Scalar) -> Tensor { a + (-s) }
    public static func - (s: Scalar, a: Tensor) -> Tensor { a.affine(-1, s).recorded([a]) { g in [-g] } }
    public static func * (a: Tensor, s: Scalar) -> Tensor { a.affine(s, 0).recorded([a]) { g in [g * s] } }
    public static func * (s: Scalar, a: Tensor) -> Tensor { a * s }
    public static func / (a: Tensor, s: Scalar) -> Tensor { a * (1 / s) }
    public static func / (s: Scalar, a: Tensor) -> Tensor { a.reciprocal() * s }

    /// `Σᵢ cᵢ·xᵢ` over tensors of one shape, in one pass per term (`c₀x₀ + c₁x₁ + …`, added in order,
    /// each product rounded first: the same values as the separate products and sums).
    ///
    /// - Precondition: one coefficient per tensor, at least one tensor, all of one shape. Stops with a message otherwise.
    public static func linearCombination(_ terms: [Tensor], coefficients: [Scalar]) -> Tensor {
        require(!terms.isEmpty && terms.count == coefficients.count,
                     "linearCombination: needs one coefficient per tensor and at least one tensor, got \(terms.count) and \(coefficients.count)")
        let shape = terms[0].shape
        for t in terms where t.shape != shape {
            requirementFailure("linearCombination: shapes \(terms.map(\.shape)) must be equal")
        }
        let out = terms[0].affine(coefficients[0], 0)
        for (t, c) in zip(terms.dropFirst(), coefficients.dropFirst()) {
            withExtendedLifetime(t) { Scalar.axpy(out.count, c, t.storage.pointer, out.storage.pointer) }
        }
        return out.recorded(terms) { g in
            zip(terms, coefficients).map { t, c in t.isRecorded ? (c == 1 ? g : g.affine(c, 0)) : nil }
        }
    }

    // Compound assignments rebind the variable to the (recorded) result: `y += x` inside a
    // differentiated function is differentiated like `y = y + x`.
    public static func += (a: inout Tensor, b: Tensor) { a = a + b }
    public static func -= (a: inout Tensor, b: Tensor) { a = a - b }
    public static func *= (a: inout Tensor, b: Tensor) { a = a * b }
    public static func *= (a: inout Tensor, s: Scalar) { a = a * s }

    /// `self += alpha * x` in place, without allocation (for optimizers; not recorded).
    ///
    /// - Precondition: equal shapes. Stops with a message otherwise.
    public mutating func addScaled(_ x: Tensor, by alpha: Scalar) {
        require(shape == x.shape, "addScaled: shapes \(shape) and \(x.shape) must be equal")
        makeUnique(); node = nil
        Scalar.axpy(count, alpha, x.storage.pointer, storage.pointer)
    }

    /// `self = scale * self + shift` in place, without allocation (not recorded).
    public mutating func scaleInPlace(by scale: Scalar, adding shift: Scalar = 0) {
        makeUnique(); node = nil
        Scalar.affine(storage.pointer, scale, shift, storage.pointer, count)
    }

    /// `self = a * self + b * x` in place (an exponential moving average step when `a + b = 1`).
    ///
    /// - Precondition: equal shapes. Stops with a message otherwise.
    public mutating func blend(_ a: Scalar, _ x: Tensor, _ b: Scalar) {
        require(shape == x.shape, "blend: shapes \(shape) and \(x.shape) must be equal")
        makeUnique(); node = nil
        // Two specialized passes rather than one generic loop (which would not be specialized).
        Scalar.affine(storage.pointer, a, 0, storage.pointer, count)
        Scalar.axpy(count, b, x.storage.pointer, storage.pointer)
    }

    /// `self = √self` elementwise in place (not recorded).
    public mutating func formSquareRoot() {
        makeUnique(); node = nil
        Scalar.unary(.sqrt, storage.pointer, storage.pointer, count)
    }

    /// `self = scale · numerator / self` elementwise in place (same shape; not recorded).
    ///
    /// - Precondition: equal shapes. Stops with a message otherwise.
    public mutating func formQuotient(_ numerator: Tensor, scaledBy scale: Scalar = 1) {
        require(shape == numerator.shape, "formQuotient: shapes \(shape) and \(numerator.shape) must be equal")
        makeUnique(); node = nil
        withExtendedLifetime(numerator) {
            Scalar.binary(.div, numerator.storage.pointer, 1, storage.pointer, 1, storage.pointer, count)
        }
        if scale != 1 { Scalar.affine(storage.pointer, scale, 0, storage.pointer, count) }
    }

    /// Copies `other`'s elements into this tensor's memory (same shape; not recorded).
    ///
    /// - Precondition: equal shapes. Stops with a message otherwise.
    public mutating func assign(_ other: Tensor) {
        require(shape == other.shape, "assign: shapes \(shape) and \(other.shape) must be equal")
        makeUnique(); node = nil
        storage.pointer.update(from: other.storage.pointer, count: count)
    }

    // MARK: Unary maps

    /// `op` applied to every element, not recorded.
    @usableFromInline
    func map(_ op: UnaryOp) -> Tensor {
        let out = Tensor(uninitializedShape: shape)
        Scalar.unary(op, storage.pointer, out.storage.pointer, count)
        return out
    }

    /// eˣ elementwise.
    public func exp() -> Tensor { let y = map(.exp); return y.recorded([self]) { g in [g * y] } }
    /// Natural logarithm elementwise.
    public func log() -> Tensor { let x = detached; return map(.log).recorded([self]) { g in [g / x] } }
    /// Hyperbolic tangent elementwise.
    public func tanh() -> Tensor { let y = map(.tanh); return y.recorded([self]) { g in [g * (1 - y * y)] } }
    /// Square root elementwise.
    public func sqrt() -> Tensor { let y = map(.sqrt); return y.recorded([self]) { g in [g * 0.5 / y] } }
    // Derivative masks are computed in the pullback, so that unrecorded calls make one pass.
    /// Absolute value elementwise (subgradient 0 at 0).
    public func abs() -> Tensor { let x = detached; return map(.abs).recorded([self]) { g in [g * x.map(.sign)] } }
    /// max(x, 0) elementwise (subgradient 0 at 0); NaN stays NaN, and so does its cotangent.
    public func relu() -> Tensor { let x = detached; return map(.relu).recorded([self]) { g in [g * x.map(.step)] } }
    /// x² elementwise.
    public func squared() -> Tensor { let x = detached; return map(.square).recorded([self]) { g in [g * x * 2] } }
    /// 1/x elementwise.
    public func reciprocal() -> Tensor { let y = map(.reciprocal); return y.recorded([self]) { g in [-(g * y * y)] } }
    /// The logistic function elementwise.
    public func sigmoid() -> Tensor { let y = map(.sigmoid); return y.recorded([self]) { g in [g * y * (1 - y)] } }
    /// GELU (tanh approximation) elementwise.
    public func gelu() -> Tensor { gelu(scaledBy: 1) }
    /// `scale · gelu(x)` elementwise, in one pass (and one pass for the pullback).
    public func gelu(scaledBy scale: Scalar) -> Tensor {
        let x = detached
        let y = Tensor(uninitializedShape: shape)
        Scalar.gelu(x.storage.pointer, scale: scale, cotangent: nil, y.storage.pointer, count)
        return y.recorded([self]) { g in
            let d = Tensor(uninitializedShape: x.shape)
            withExtendedLifetime(g) {
                Scalar.gelu(x.storage.pointer, scale: scale, cotangent: g.storage.pointer, d.storage.pointer, x.count)
            }
            return [d]
        }
    }
    /// Sign elementwise (−1, 0 or 1; NaN for NaN); its derivative is zero.
    public func sign() -> Tensor { map(.sign) }
    /// xᵖ elementwise for a scalar exponent.
    public func pow(_ p: Scalar) -> Tensor {
        let x = detached
        let y = Tensor(uninitializedShape: shape)
        Scalar.pow(x.storage.pointer, p, y.storage.pointer, count)
        return y.recorded([self]) { g in
            let d = Tensor(uninitializedShape: x.shape)
            Scalar.pow(x.storage.pointer, p - 1, d.storage.pointer, x.count)
            return [g * d * p]
        }
    }
    /// Elementwise clamp to `[low, high]` (derivative 1 inside, 0 outside); NaN stays NaN.
    ///
    /// - Precondition: `low ≤ high`. Stops with a message otherwise.
    public func clamped(_ low: Scalar, _ high: Scalar) -> Tensor {
        require(low <= high, "clamped: low bound \(low) exceeds high bound \(high)")
        let y = Tensor(uninitializedShape: shape)
        var bounds = (low, high)
        withUnsafePointer(to: &bounds.0) { lo in
            Scalar.binary(.max, storage.pointer, 1, lo, 0, y.storage.pointer, count)
        }
        withUnsafePointer(to: &bounds.1) { hi in
            Scalar.binary(.min, y.storage.pointer, 1, hi, 0, y.storage.pointer, count)
        }
        let x = detached
        return y.recorded([self]) { g in
            // 1 where clamping left the element unchanged (inside, bounds included), else 0.
            let moved = y.combined(.sub, x, "clamped").map(.abs).map(.sign)
            return [g * (1 - moved)]
        }
    }

    /// Whether every element is finite (no NaN or infinity).
    public var isFinite: Bool { Scalar.allFinite(storage.pointer, count) }
}

/// Elementwise maximum of two tensors with broadcasting.
public func maximum<S: TensorScalar>(_ a: Tensor<S>, _ b: Tensor<S>) -> Tensor<S> { Tensor.maximum(a, b) }
