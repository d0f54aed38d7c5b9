/**
 * Exactly-once followers: a follower records, in the same transaction as what it writes, which
 * notification it processed. See process-recorder.ts for the recorders that do it.
 */
export interface Tracking {
  /**
   * The name the follower tracks under: a projection's name, or, for a process application, its name
   * and its upstream application's (see ProcessApplication).
   */
  readonly applicationName: string;
  readonly notificationId: number;
}

export interface TrackingRecorder {
  /** The highest notification id recorded under the name, or 0. */
  maxTrackingId(applicationName: string): Promise<number>;
}
