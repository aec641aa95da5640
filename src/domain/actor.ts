/** Who is signed in, as kept in the session. Every query that reads health data takes one of these. */
export type PsActor = {
  kind: "ps";
  practitionerId: number;
  /** Set for a salaried doctor or bariatric surgeon: they act as (and see everything of) the structure. */
  structureId: number | null;
  displayName: string;
};

export type AgentActor = {
  kind: "agent";
  agentId: number;
  elsmId: number;
  displayName: string;
};

export type Actor = PsActor | AgentActor;

/** A stable key naming the actor, used to bind rescued form data to the person who typed it. */
export function actorKey(actor: Actor): string {
  return actor.kind === "ps" ? `ps:${actor.practitionerId}` : `agent:${actor.agentId}`;
}

/** Request facts the domain needs for the audit trail, without depending on Express. */
export type RequestContext<A extends Actor = Actor> = { actor: A; ip: string };
