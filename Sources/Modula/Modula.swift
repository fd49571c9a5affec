@_exported import ModulaTensor
