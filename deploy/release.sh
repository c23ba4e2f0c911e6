#!/usr/bin/env bash
# Release an image to every ECS service of a cluster: `deploy/release.sh CLUSTER IMAGE` (AWS CLI v2 and jq; the
# delivery workflow runs it after pushing IMAGE, tagged with the commit, to ECR).
#  1. For each service, register a new revision of its task definition with IMAGE (everything else unchanged).
#  2. Migrate: per platform service (order, inventory, payment), one one-off task of that new revision runs
#     `node deploy/migrate.mjs <service>` in the service's own subnets and security groups, with its own database URL;
#     a non-zero exit stops the release before any service changes.
#  3. Roll: update every service to its new revision and wait until it is stable. A deployment that fails its health
#     checks is rolled back by the ECS deployment circuit breaker; this script then fails, naming the service.
# Why this order is safe: docs/deployment.md, "Releases" (migrations are additive; the running tasks keep working).
# SKIP_MIGRATIONS=1 skips step 2: the standby region (docs/multi-region.md), whose databases are read replicas that
# receive the primary's schema through replication.
set -euo pipefail
cluster="${1:?usage: release.sh CLUSTER IMAGE}"
image="${2:?usage: release.sh CLUSTER IMAGE}"
log() { printf '== %s\n' "$*"; }

mapfile -t services < <(aws ecs list-services --cluster "$cluster" --query 'serviceArns[]' --output text | tr '\t' '\n' | sed '/^$/d')
[ "${#services[@]}" -gt 0 ] || { echo "no ECS services in cluster $cluster" >&2; exit 1; }

declare -A revision migrated
for svc in "${services[@]}"; do
  desc=$(aws ecs describe-services --cluster "$cluster" --services "$svc" --query 'services[0]' --output json)
  current=$(jq -r .taskDefinition <<<"$desc")
  new=$(aws ecs describe-task-definition --task-definition "$current" --query taskDefinition --output json |
    jq --arg image "$image" '.containerDefinitions[0].image = $image
      | {family, taskRoleArn, executionRoleArn, networkMode, containerDefinitions, volumes, placementConstraints,
         requiresCompatibilities, cpu, memory, runtimePlatform}
      | with_entries(select(.value != null))')
  revision[$svc]=$(aws ecs register-task-definition --cli-input-json "$new" --query taskDefinition.taskDefinitionArn --output text)
  log "$svc: registered ${revision[$svc]}"

  platform=$(jq -r '.containerDefinitions[0].command[-1]' <<<"$new")
  container=$(jq -r '.containerDefinitions[0].name' <<<"$new")
  if [ "${SKIP_MIGRATIONS:-0}" = "1" ] || [ -n "${migrated[$platform]:-}" ]; then continue; fi
  log "migrating the $platform database (one-off task of the new revision)"
  network=$(jq -c '.networkConfiguration' <<<"$desc")
  overrides=$(jq -nc --arg c "$container" --arg s "$platform" '{containerOverrides: [{name: $c, command: ["deploy/migrate.mjs", $s]}]}')
  task=$(aws ecs run-task --cluster "$cluster" --launch-type FARGATE --task-definition "${revision[$svc]}" \
    --network-configuration "$network" --overrides "$overrides" --started-by "release-migrate" \
    --query 'tasks[0].taskArn' --output text)
  aws ecs wait tasks-stopped --cluster "$cluster" --tasks "$task"
  code=$(aws ecs describe-tasks --cluster "$cluster" --tasks "$task" --query 'tasks[0].containers[0].exitCode' --output text)
  if [ "$code" != "0" ]; then
    echo "migration of the $platform database failed (task $task, exit $code): no service was changed" >&2
    exit 1
  fi
  migrated[$platform]=1
done

for svc in "${services[@]}"; do
  log "$svc: rolling to ${revision[$svc]}"
  aws ecs update-service --cluster "$cluster" --service "$svc" --task-definition "${revision[$svc]}" >/dev/null
done
aws ecs wait services-stable --cluster "$cluster" --services "${services[@]}" || echo "not stable after the waiter's 10 minutes" >&2
failed=0
for svc in "${services[@]}"; do
  state=$(aws ecs describe-services --cluster "$cluster" --services "$svc" \
    --query 'services[0].deployments[?status==`PRIMARY`] | [0].[taskDefinition, rolloutState]' --output text)
  read -r running rollout <<<"$state"
  if [ "$running" != "${revision[$svc]}" ] || [ "$rollout" != "COMPLETED" ]; then
    echo "$svc did not take ${revision[$svc]} (primary: $running, $rollout): the circuit breaker rolled it back" >&2
    failed=1
  fi
done
exit "$failed"
