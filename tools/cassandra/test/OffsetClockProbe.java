import org.apache.cassandra.utils.Clock;

/**
 * Run by clock.test.ts with the node's clock properties: which clock Cassandra's Clock.Global chose, and how
 * far its wall clock and its nanoTime are from the JVM's own (each read between two of the JVM's).
 */
public class OffsetClockProbe {
    public static void main(String[] args) {
        String chosen = Clock.Global.clock().getClass().getName(); // loads the clock before it is timed
        long wallBefore = System.currentTimeMillis();
        long wall = Clock.Global.currentTimeMillis();
        long wallAfter = System.currentTimeMillis();
        long nanoBefore = System.nanoTime();
        long nano = Clock.Global.nanoTime();
        long nanoAfter = System.nanoTime();
        System.out.println(chosen);
        System.out.println((wall - wallBefore) + " " + (wall - wallAfter));
        System.out.println((nano - nanoBefore) + " " + (nano - nanoAfter));
    }
}
