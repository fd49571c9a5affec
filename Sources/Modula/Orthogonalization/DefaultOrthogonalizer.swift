/// The orthogonalizer atoms use unless told otherwise: Modula's six-step Newton–Schulz iteration
/// (``SixStepNewtonSchulz``).
public let defaultOrthogonalizer: any Orthogonalizer = SixStepNewtonSchulz()
