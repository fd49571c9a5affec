import Modula
print("todo")
