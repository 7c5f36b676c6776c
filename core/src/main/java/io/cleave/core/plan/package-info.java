/** The planner: latency model, plan evaluation under the arbiter's rule, Cleave's policy and the baselines. */
package io.cleave.core.plan;
