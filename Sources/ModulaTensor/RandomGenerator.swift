#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// A seeded pseudo-random generator (xoshiro256**, seeded through SplitMix64).
///
/// The same seed gives the same numbers on every run and every machine: all random tensors and
/// every initialization in swift-modula take one of these explicitly.
public struct RandomGenerator: RandomNumberGenerator, Sendable, Codable, Equatable {
    private var s: (UInt64, UInt64, UInt64, UInt64)

    /// A generator whose whole stream is fixed by `seed`.
    public init(seed: UInt64) {
        var x = seed
        func splitmix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s = (splitmix(), splitmix(), splitmix(), splitmix())
    }

    /// The four 64-bit words of the generator's state (save them to continue the stream exactly later).
    public var state: [UInt64] { [s.0, s.1, s.2, s.3] }

    /// The generator whose state is `state` (four words, as ``state`` returns them); `nil` for another count
    /// or the all-zero state, which xoshiro256** never leaves.
    public init?(state: [UInt64]) {
        guard state.count == 4, state.contains(where: { $0 != 0 }) else { return nil }
        s = (state[0], state[1], state[2], state[3])
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        let result = rotl(s.1 &* 5, 7) &* 9
        let t = s.1 << 17
        s.2 ^= s.0; s.3 ^= s.1; s.1 ^= s.2; s.0 ^= s.3
        s.2 ^= t
        s.3 = rotl(s.3, 45)
        return result
    }

    @inline(__always) private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// A double uniform on [0, 1) with 53 random bits.
    public mutating func nextUnitDouble() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Two independent standard normal samples (Box–Muller).
    public mutating func nextNormalPair() -> (Double, Double) {
        let u1 = 1 - nextUnitDouble()  // (0, 1]
        let u2 = nextUnitDouble()
        let r = (-2 * log(u1)).squareRoot()
        let theta = 2 * Double.pi * u2
        return (r * cos(theta), r * sin(theta))
    }

    /// An integer uniform on `0..<n`.
    ///
    /// - Precondition: `n` is positive. Stops with a message otherwise.
    public mutating func nextInt(below n: Int) -> Int {
        require(n > 0, "RandomGenerator.nextInt(below:): n must be positive, got \(n)")
        return Int(next(upperBound: UInt64(n)))
    }

    /// A new generator derived from this one (for a stream that must not disturb this one).
    public mutating func split() -> RandomGenerator { RandomGenerator(seed: next()) }

    public static func == (a: RandomGenerator, b: RandomGenerator) -> Bool {
        a.s.0 == b.s.0 && a.s.1 == b.s.1 && a.s.2 == b.s.2 && a.s.3 == b.s.3
    }

    private enum CodingKeys: CodingKey { case state }
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let v = try c.decode([UInt64].self, forKey: .state)
        guard v.count == 4 else {
            throw DecodingError.dataCorruptedError(forKey: .state, in: c, debugDescription: "RandomGenerator state needs 4 words, got \(v.count)")
        }
        s = (v[0], v[1], v[2], v[3])
    }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode([s.0, s.1, s.2, s.3], forKey: .state)
    }
}
