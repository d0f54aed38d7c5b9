/**
 * Exactly-once projections: a read model records, in the same transaction as its update, which
 * notification it processed. Backends with transactions implement this (see @es/sql).
 */
export interface Tracking {
  /** The name of the upstream application (or log) the notification came from. */
  readonly applicationName: string;
  readonly notificationId: number;
}

export interface TrackingRecorder {
  /** The highest notification id recorded for the application, or 0. */
  maxTrackingId(applicationName: string): Promise<number>;
}
