import NIOCore
import Testing

@testable import Redis

@Suite struct RedisReplyQueueTests {
    let start = NIODeadline.uptimeNanoseconds(1_000_000_000)

    func makeQueue(maxPending: Int = 10) -> RedisReplyQueue<Int> {
        RedisReplyQueue(maxPending: maxPending, commandTimeout: .milliseconds(300), deadConnectionTimeout: .seconds(5))
    }

    @Test func repliesGoToWaitersInOrder() {
        var queue = makeQueue()
        #expect(queue.enqueue([1, 2], now: start) == .accepted(armTimerAt: start + .milliseconds(300)))
        // A later command does not move the timer: its deadline is later.
        #expect(queue.enqueue([3], now: start + .milliseconds(10)) == .accepted(armTimerAt: nil))
        for expected in 1...3 {
            guard case .deliver(let waiter) = queue.receive() else {
                Issue.record("no waiter")
                return
            }
            #expect(waiter == expected)
        }
        guard case .unsolicited = queue.receive() else {
            Issue.record("an extra reply must be unsolicited")
            return
        }
    }

    @Test func busyBeyondTheBound() {
        var queue = makeQueue(maxPending: 3)
        #expect(queue.enqueue([1, 2], now: start) != .busy)
        #expect(queue.enqueue([3, 4], now: start) == .busy)
        #expect(queue.count == 2)
        #expect(queue.enqueue([3], now: start) != .busy)
        #expect(queue.enqueue([4], now: start) == .busy)
    }

    @Test func timedOutCommandKeepsItsSlotAndItsLateReplyIsDiscarded() {
        var queue = makeQueue()
        _ = queue.enqueue([1], now: start)
        _ = queue.enqueue([2], now: start + .milliseconds(100))
        let early = queue.timerFired(now: start + .milliseconds(299))
        #expect(early.expired.isEmpty)
        #expect(early.rearmAt == start + .milliseconds(300))
        let fired = queue.timerFired(now: start + .milliseconds(300))
        #expect(fired.expired == [1])
        #expect(fired.rearmAt == start + .milliseconds(400))
        #expect(!fired.connectionDead)
        #expect(queue.count == 2)
        #expect(queue.waiting == 1)
        // The next command (sent after the timeout) arms nothing new: a timer is due sooner.
        #expect(queue.enqueue([3], now: start + .milliseconds(350)) == .accepted(armTimerAt: nil))
        // The late reply of 1 arrives: dropped, and 2 still gets its own.
        guard case .discardLate = queue.receive() else {
            Issue.record("late reply must be discarded")
            return
        }
        guard case .deliver(2) = queue.receive() else {
            Issue.record("2 must get the next reply")
            return
        }
        guard case .deliver(3) = queue.receive() else {
            Issue.record("3 must get the next reply")
            return
        }
    }

    @Test func newCommandPullsTheTimerForwardWhenOnlyTheDeadCheckIsArmed() {
        var queue = makeQueue()
        _ = queue.enqueue([1], now: start)
        let fired = queue.timerFired(now: start + .milliseconds(300))
        #expect(fired.expired == [1])
        // Only the dead-connection check (5 s after the oldest) is armed now.
        #expect(fired.rearmAt == start + .seconds(5))
        #expect(queue.enqueue([2], now: start + .seconds(1)) == .accepted(armTimerAt: start + .seconds(1) + .milliseconds(300)))
    }

    @Test func connectionIsDeadWhenTheOldestReplyIsFarTooLate() {
        var queue = makeQueue()
        _ = queue.enqueue([1], now: start)
        _ = queue.timerFired(now: start + .milliseconds(300))
        _ = queue.enqueue([2], now: start + .milliseconds(4_800))
        let fired = queue.timerFired(now: start + .seconds(5))
        #expect(fired.connectionDead)
        #expect(queue.removeAll() == [2])
        #expect(queue.count == 0)
        #expect(queue.timerDeadline == nil)
    }

    @Test func removeAllReturnsOnlyLiveWaiters() {
        var queue = makeQueue()
        _ = queue.enqueue([1, 2], now: start)
        _ = queue.enqueue([3], now: start + .seconds(1))
        let fired = queue.timerFired(now: start + .milliseconds(500))
        #expect(fired.expired == [1, 2])
        #expect(queue.removeAll() == [3])
        guard case .unsolicited = queue.receive() else {
            Issue.record("empty queue")
            return
        }
    }
}
