import Testing
import Modula
