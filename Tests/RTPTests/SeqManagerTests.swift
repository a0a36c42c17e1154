import RTP
import Testing

@Suite("SeqManager (mediasoup-style sequence rewriting)")
struct SeqManagerTests {
    /// One step of a table: feed `input` (or drop / sync it) and expect `output` (nil = refused).
    enum Step {
        case input(UInt16, UInt16?)
        case drop(UInt16)
        case sync(UInt16)
    }

    static let tables: [(String, UInt16, [Step])] = [
        ("passes through from 0", 0, [.input(0, 0), .input(1, 1), .input(2, 2), .input(4, 4), .input(3, 3)]),
        ("sync starts after the initial output", 1000, [.sync(4999), .input(5000, 1001), .input(5001, 1002), .input(5003, 1004)]),
        ("a dropped input closes the gap", 0, [.input(0, 0), .input(1, 1), .drop(2), .input(3, 2), .input(4, 3), .input(2, nil)]),
        ("a reordered input below a drop keeps its number", 0, [.input(0, 0), .input(1, 1), .drop(3), .input(2, 2), .input(4, 3), .input(5, 4)]),
        ("dropping an input already passed changes nothing", 0, [.input(0, 0), .input(2, 2), .drop(1), .input(1, 1), .input(3, 3)]),
        ("consecutive drops", 0, [.input(10, 10), .drop(11), .drop(12), .drop(13), .input(14, 11), .input(15, 12)]),
        ("drops out of order are sorted", 0, [.input(10, 10), .drop(13), .drop(11), .input(12, 11), .input(14, 12)]),
        ("wrap-around with a drop", 0, [.input(65533, 65533), .input(65534, 65534), .drop(65535), .input(0, 65535), .input(1, 0)]),
        ("sync after a producer switch continues the output", 0, [.input(10, 10), .input(11, 11), .sync(499), .input(500, 12), .input(501, 13)]),
        ("sync forgets drops", 0, [.input(10, 10), .drop(11), .sync(99), .input(100, 11), .input(101, 12)]),
        ("sync across the wrap", 65534, [.sync(9), .input(10, 65535), .input(11, 0), .input(12, 1)]),
    ]

    @Test("tables", arguments: tables)
    func table(_ table: (String, UInt16, [Step])) {
        var manager = SeqManager<UInt16>(initialOutput: table.1)
        for (index, step) in table.2.enumerated() {
            switch step {
            case .input(let input, let expected):
                #expect(manager.input(input) == expected, "\(table.0): step \(index) input \(input)")
            case .drop(let input):
                manager.drop(input)
            case .sync(let input):
                manager.sync(input)
            }
        }
    }

    @Test("serial comparison in a 3-bit space")
    func serialComparison() {
        let manager = SeqManager<UInt8>(bits: 3)
        #expect(manager.maxValue == 7)
        #expect(manager.isHigher(1, than: 0))
        #expect(manager.isHigher(0, than: 7))
        #expect(manager.isHigher(3, than: 0))
        #expect(!manager.isHigher(4, than: 0))  // half the space away counts as behind
        #expect(manager.isLower(6, than: 1))
        #expect(!manager.isLower(5, than: 1))  // exactly half: neither
        #expect(!manager.isHigher(2, than: 2))
    }

    /// In-order input over many wraps with a drop pattern: forwarded outputs must be consecutive.
    @Test("outputs stay consecutive over many wraps", arguments: [3, 8, 16])
    func consecutiveOverWraps(bits: Int) {
        var manager = SeqManager<UInt16>(bits: bits, initialOutput: 5)
        let mask = UInt16(bits == 16 ? 0xFFFF : (1 << bits) - 1)
        let maxDropRun = bits == 3 ? 1 : 3  // a 3-bit space cannot tell a gap of 4 from going backwards
        var expected: UInt16? = nil
        var input: UInt16 = 0
        var dropRun = 0
        for step in 0..<70_000 {  // more than one 16-bit cycle
            let drop = dropRun < maxDropRun && (step % 7 == 3 || step % 11 == 0 || step % 13 == 5)
            if drop {
                dropRun += 1
                manager.drop(input)
            } else {
                dropRun = 0
                guard let output = manager.input(input) else {
                    Issue.record("input \(input) refused at step \(step)")
                    return
                }
                if let expected, output != expected {
                    Issue.record("bits \(bits) step \(step): input \(input) → \(output), expected \(expected)")
                    return
                }
                expected = (output &+ 1) & mask
            }
            input = (input &+ 1) & mask
        }
    }

    /// Reordered delivery (adjacent swaps) around drops, across the 16-bit wrap: each packet gets
    /// the number it would have had in order.
    @Test("reordering keeps in-order numbering")
    func reorderingModel() {
        let start: UInt16 = 64_000
        let count = 5000
        let dropped = Set((0..<count).filter { $0 % 9 == 4 })
        // Expected output of index i: initial + number of non-dropped indices before it.
        var expectedOutput: [Int: UInt16] = [:]
        var next: UInt16 = 100
        for i in 0..<count where !dropped.contains(i) {
            expectedOutput[i] = next
            next &+= 1
        }
        // Delivery order: swap (i, i+1) every 10 when neither is dropped.
        var order = Array(0..<count)
        for i in stride(from: 0, to: count - 1, by: 10) where !dropped.contains(i) && !dropped.contains(i + 1) {
            order.swapAt(i, i + 1)
        }
        var manager = SeqManager<UInt16>(initialOutput: 99)
        manager.sync(start &- 1)
        for i in order {
            let seq = start &+ UInt16(i)
            if dropped.contains(i) {
                manager.drop(seq)
            } else {
                #expect(manager.input(seq) == expectedOutput[i], "index \(i)")
            }
        }
        #expect(manager.maxOutput == next &- 1)
    }

    @Test("offset shifts later outputs; maxInput/maxOutput track the highest")
    func offsetAndMaxima() {
        var manager = SeqManager<UInt32>()
        #expect(manager.input(100) == 100)
        manager.offset(10)
        #expect(manager.input(101) == 111)
        #expect(manager.input(99) == 109)
        #expect(manager.maxInput == 101)
        #expect(manager.maxOutput == 111)
    }

    @Test("the dropped list is bounded")
    func boundedDrops() {
        var manager = SeqManager<UInt16>()
        #expect(manager.input(0) == 0)
        for seq in UInt16(1)...1000 { manager.drop(seq) }
        // Folding the oldest drops keeps the numbering of in-order packets correct.
        #expect(manager.input(1001) == 1)
        #expect(manager.input(1002) == 2)
    }
}
