export { PortLocks, type LockOptions } from './port-lock.js';
export { Scheduler, abortedByStop, cronTimer, type JobSpec, type JobResult, type JobOutcome, type JobTrigger, type JobStatus, type SchedulerEvents, type SchedulerOptions } from './scheduler.js';
