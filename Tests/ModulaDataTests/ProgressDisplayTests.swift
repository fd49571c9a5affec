import Testing
@testable import ModulaData

@Suite("ProgressDisplay")
struct ProgressDisplayTests {
    @Test func plainModePrintsEveryNStepsAndTheLast() {
        let sink = TextSink()
        var progress = ProgressDisplay(total: 35, label: "run", itemsPerStep: 128, every: 10, redrawInPlace: false,
                                       output: { sink.append($0) })
        for step in 0..<35 { progress.update(step: step, loss: 1 / Double(step + 1)) }
        progress.finish("done")
        let lines = sink.text.split(separator: "\n")
        #expect(lines.count == 6)
        #expect(lines[0].hasPrefix("run  step  1/35 (  2%)  loss 1.0000"))
        #expect(lines[1].hasPrefix("run  step 10/35 ( 28%)  loss 0.1000"))
        #expect(lines[4].hasPrefix("run  step 35/35 (100%)"))
        #expect(lines[4].contains("items/s") && lines[4].contains("ETA 0:00"))
        #expect(lines[5] == "done")
        #expect(!sink.text.contains("\r"))
    }

    @Test func terminalModeRedrawsInPlace() {
        let sink = TextSink()
        var progress = ProgressDisplay(total: 3, redrawInPlace: true, output: { sink.append($0) })
        for step in 0..<3 { progress.update(step: step, loss: 0.5, extra: "acc 90%") }
        progress.finish()
        let text = sink.text
        #expect(text.hasPrefix("\rstep 1/3"))
        #expect(text.contains("\rstep 3/3 (100%)  loss 0.5000"))
        #expect(text.contains("acc 90%\u{1B}[K"))
        #expect(text.hasSuffix("\n") && text.filter { $0 == "\n" }.count == 1)
    }

    @Test func lineReportsThroughputAndETA() {
        let progress = ProgressDisplay(total: 1000, itemsPerStep: 100, redrawInPlace: false, output: { _ in })
        let line = progress.line(completed: 250, loss: 2.5e-6, elapsed: 10)
        #expect(line == "step  250/1000 ( 25%)  loss 2.500e-06  2500 items/s  elapsed 0:10  ETA 0:30")
        #expect(ProgressDisplay.formatDuration(3725) == "1:02:05")
    }
}
