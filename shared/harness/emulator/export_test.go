package emulator

// ModuleRoot is moduleRoot, for the tests.
var ModuleRoot = moduleRoot

// Pid is the process id of moto_server (its process group's id).
func (s *Server) Pid() int { return s.cmd.Process.Pid }

// MotoPythonPath is motoPythonPath, for the tests.
var MotoPythonPath = motoPythonPath

// MotoServerScript is moto_server.py, for the tests.
var MotoServerScript = motoServerScript
