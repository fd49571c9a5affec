@testable import Modula
var rng = RandomGenerator(seed: 1)
let a = Tensor<Double>.randomNormal([3, 4], using: &rng)
let z = Tensor<Double>.zeros([3,4])
for n in MatrixNorm.allCases { print(n, n.norm(a), n.norm(z), n.dualNorm(a)) }
print(z.squared().sum(alongAxis: 0))
print(a.squared().sum(alongAxis: 1))
let l = Linear(in: 4, out: 3)
print(l.norm([a]) as Double, l.norm([a][...]) as Double)
let s = Sequential([l, ReLU(), Linear(in: 3, out: 3)])
let w = [a, Tensor<Double>.randomNormal([3, 3], using: &rng)]
print(s.norm(w) as Double)
let d = s.dualize(w)
print(d, s.norm(d) as Double)
