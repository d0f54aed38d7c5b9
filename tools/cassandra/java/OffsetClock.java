package es.cassandra;

import org.apache.cassandra.utils.Clock;

/**
 * A wall clock a fixed number of milliseconds off the machine's, for a test node whose clock is skewed.
 * Cassandra 5.0 reads every wall-clock time through Clock.Global, which constructs the class the system
 * property cassandra.clock names: write timestamps and Paxos ballots (ClientState), now() (TimeUUID's
 * generator), TTLs and the epoch its monotonic clock translates message times into. So one property moves
 * them all, and the node starts as fast as on the true clock (under a preloaded libfaketime, which this
 * replaced, a start took over 15 minutes on a loaded machine).
 *
 * The offset is the system property es.clock.offset.ms (0 when absent), read once. nanoTime() stays the
 * machine's: it measures elapsed time, which a skewed node keeps right.
 */
public final class OffsetClock implements Clock {
    public static final String OFFSET_PROPERTY = "es.clock.offset.ms";

    private final long offsetMs = Long.getLong(OFFSET_PROPERTY, 0L);

    @Override
    public long nanoTime() {
        return System.nanoTime();
    }

    @Override
    public long currentTimeMillis() {
        return System.currentTimeMillis() + offsetMs;
    }
}
