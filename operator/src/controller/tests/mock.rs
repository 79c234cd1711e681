//! The mock API server of the reconcile tests: expected calls, canned replies, fixtures.

use std::sync::Arc;
use std::time::Duration;

use http::{Method, Request, Response, StatusCode};
use k8s_openapi::api::apps::v1::{StatefulSet, StatefulSetStatus};
use k8s_openapi::api::core::v1::Service;
use k8s_openapi::jiff::Timestamp;
use kube::Client;
use kube::client::Body;
use kube::runtime::events::Reporter;
use serde_json::{Value, json};

use crate::build::{self, ClusterResources};
use crate::controller::Context;
use crate::crd::RocketCluster;
use crate::metrics::Metrics;
use crate::validate::{Environment, validate};

pub(super) type Handle = tower_test::mock::Handle<Request<Body>, Response<Body>>;

pub(super) const APPLY: &str = "?&force=true&fieldManager=rmq-operator";
pub(super) const NS: &str = "/namespaces/mq";

pub(super) fn fixed_clock() -> Timestamp {
    Timestamp::from_second(1_800_000_000).unwrap_or(Timestamp::UNIX_EPOCH)
}

pub(super) fn context() -> (Arc<Context>, Handle, Arc<Metrics>) {
    context_with(Arc::new(super::lifecycle::ScriptedAdmin::default()))
}

pub(super) fn context_with(
    admin: Arc<super::lifecycle::ScriptedAdmin>,
) -> (Arc<Context>, Handle, Arc<Metrics>) {
    let admin = Arc::new(super::lifecycle::Scripted(admin));
    let (service, handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    let client = Client::new(service, "default");
    let metrics = Arc::new(Metrics::default());
    let reporter = Reporter {
        controller: "rmq-operator".into(),
        instance: None,
    };
    let ctx = Context::new(
        client,
        reporter,
        metrics.clone(),
        Environment::default(),
        fixed_clock,
        admin,
    );
    (Arc::new(ctx), handle, metrics)
}

pub(super) fn cluster(spec: Value, status: Option<Value>) -> RocketCluster {
    let mut obj = json!({
        "apiVersion": "rocketmq.rs/v1alpha1",
        "kind": "RocketCluster",
        "metadata": {"name": "demo", "namespace": "mq", "uid": "uid-demo", "generation": 2},
        "spec": spec,
    });
    if let Some(s) = status {
        obj["status"] = s;
    }
    serde_json::from_value(obj).expect("cluster fixture")
}

/// What the reconcile applies for `c` over `live`: built, then gated (a changed template
/// holds every pod of its group).
pub(super) fn gated(c: &RocketCluster, live: &[StatefulSet]) -> ClusterResources {
    let mut r = built(c);
    build::rollout::gate(&mut r, live);
    r
}

/// The partition of StatefulSet `name` lowered to `partition`: that pod's turn in a roll.
pub(super) fn partition_call(name: &str, partition: u32) -> Call {
    call(
        Method::PATCH,
        format!("/apis/apps/v1{NS}/statefulsets/{name}?"),
        Reply::Echo,
    )
    .checking(move |body| {
        assert_eq!(
            body,
            &json!({"spec": {"updateStrategy": {"rollingUpdate": {"partition": partition}}}})
        );
    })
}

pub(super) fn built(c: &RocketCluster) -> ClusterResources {
    build::build(&validate(c, &Environment::default()).expect("valid"))
}

/// `sts` as the API server returns it when all its pods run the current template and are Ready.
pub(super) fn settled(sts: &StatefulSet) -> StatefulSet {
    let mut s = sts.clone();
    let replicas = s.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    s.metadata.generation = Some(1);
    s.status = Some(StatefulSetStatus {
        observed_generation: Some(1),
        replicas,
        ready_replicas: Some(replicas),
        updated_replicas: Some(replicas),
        current_revision: Some("rev-1".into()),
        update_revision: Some("rev-1".into()),
        ..StatefulSetStatus::default()
    });
    s
}

/// One expected call and how to answer it.
pub(super) struct Call {
    pub(super) method: Method,
    pub(super) uri: String,
    pub(super) reply: Reply,
    pub(super) check: Box<dyn FnOnce(&Value) + Send>,
}

pub(super) enum Reply {
    /// Return the request body (what server-side apply returns for a new object).
    Echo,
    /// Return the request body with this `status` merged in.
    EchoWithStatus(Value),
    /// Return this body with 200.
    Json(Value),
    /// Return this object with the request body's `status` (what a status patch returns).
    WithStatusOf(Value),
    /// Return a 404 Status.
    NotFound,
    /// Return a 500 Status.
    ServerError,
    /// Return a 422 Status: what a change of an immutable field gets.
    Invalid,
}

pub(super) fn call(method: Method, uri: impl Into<String>, reply: Reply) -> Call {
    Call {
        method,
        uri: uri.into(),
        reply,
        check: Box::new(|_| {}),
    }
}

impl Call {
    pub(super) fn checking(mut self, f: impl FnOnce(&Value) + Send + 'static) -> Self {
        self.check = Box::new(f);
        self
    }
}

pub(super) fn apply_call(path: &str, name: &str, expected: Value, reply: Reply) -> Call {
    let label = name.to_owned();
    call(Method::PATCH, format!("{path}/{name}{APPLY}"), reply).checking(move |body| {
        assert_eq!(body, &expected, "apply body of {label}");
    })
}

/// The apply calls of `r`, in order, each expected to carry exactly the built object.
pub(super) fn apply_calls(
    r: &ClusterResources,
    sts_reply: impl Fn(&StatefulSet) -> Reply,
) -> Vec<Call> {
    let mut calls = Vec::new();
    let name = |m: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta| {
        m.name.clone().unwrap_or_default()
    };
    for s in &r.services {
        calls.push(apply_call(
            &format!("/api/v1{NS}/services"),
            &name(&s.metadata),
            json!(s),
            Reply::Echo,
        ));
    }
    for c in &r.config_maps {
        calls.push(apply_call(
            &format!("/api/v1{NS}/configmaps"),
            &name(&c.metadata),
            json!(c),
            Reply::Echo,
        ));
    }
    for c in &r.certificates {
        calls.push(apply_call(
            &format!("/apis/cert-manager.io/v1{NS}/certificates"),
            &name(&c.metadata),
            json!(c),
            Reply::Echo,
        ));
    }
    for p in &r.pdbs {
        calls.push(apply_call(
            &format!("/apis/policy/v1{NS}/poddisruptionbudgets"),
            &name(&p.metadata),
            json!(p),
            Reply::Echo,
        ));
    }
    for s in &r.stateful_sets {
        calls.push(apply_call(
            &format!("/apis/apps/v1{NS}/statefulsets"),
            &name(&s.metadata),
            json!(s),
            sts_reply(s),
        ));
    }
    calls
}

pub(super) fn list_sts(items: &[StatefulSet]) -> Call {
    call(
        Method::GET,
        format!(
            "/apis/apps/v1{NS}/statefulsets?&labelSelector=app.kubernetes.io%2Finstance%3Ddemo%2Capp.kubernetes.io%2Fmanaged-by%3Drmq-operator"
        ),
        Reply::Json(
            json!({"apiVersion": "apps/v1", "kind": "StatefulSetList", "metadata": {}, "items": items}),
        ),
    )
}

/// The cluster's external Services (`externalAccess`), as listed by label.
pub(super) fn list_external(items: &[Service]) -> Call {
    call(
        Method::GET,
        format!(
            "/api/v1{NS}/services?&labelSelector=app.kubernetes.io%2Finstance%3Ddemo%2Capp.kubernetes.io%2Fmanaged-by%3Drmq-operator%2Crocketmq.rs%2Fexternal-access%3Dtrue"
        ),
        Reply::Json(
            json!({"apiVersion": "v1", "kind": "ServiceList", "metadata": {}, "items": items}),
        ),
    )
}

pub(super) fn event(reason: &'static str, note_contains: &'static str) -> Call {
    call(
        Method::POST,
        format!("/apis/events.k8s.io/v1{NS}/events?"),
        Reply::Echo,
    )
    .checking(move |body| {
        assert_eq!(body["reason"], reason, "{body}");
        let note = body["note"].as_str().unwrap_or_default();
        assert!(note.contains(note_contains), "event {reason}: {note}");
        assert_eq!(body["regarding"]["name"], "demo");
    })
}

pub(super) fn status_call(
    cluster: &RocketCluster,
    check: impl FnOnce(&Value) + Send + 'static,
) -> Call {
    call(
        Method::PATCH,
        format!("/apis/rocketmq.rs/v1alpha1{NS}/rocketclusters/demo/status{APPLY}"),
        Reply::WithStatusOf(json!(cluster)),
    )
    .checking(move |body| {
        assert_eq!(body["apiVersion"], "rocketmq.rs/v1alpha1");
        assert_eq!(body["kind"], "RocketCluster");
        check(&body["status"]);
    })
}

/// The list of group `group`'s ConfigMaps, answered with `names`.
pub(super) fn list_group_configs(group: u32, names: &[&str]) -> Call {
    let items: Vec<Value> = names
        .iter()
        .map(|n| json!({"metadata": {"name": n, "namespace": "mq"}}))
        .collect();
    call(
        Method::GET,
        format!(
            "/api/v1{NS}/configmaps?&labelSelector=app.kubernetes.io%2Fcomponent%3Dbroker%2Capp.kubernetes.io%2Finstance%3Ddemo%2Capp.kubernetes.io%2Fname%3Drocketmq%2Crocketmq.rs%2Fbroker-group%3D{group}"
        ),
        Reply::Json(
            json!({"apiVersion": "v1", "kind": "ConfigMapList", "metadata": {}, "items": items}),
        ),
    )
}

pub(super) fn delete_call(path: &str, name: &str, reply: Reply) -> Call {
    call(Method::DELETE, format!("{path}/{name}?"), reply).checking(|body| {
        assert_eq!(body["propagationPolicy"], "Background");
    })
}

/// `(type, status, reason)` of every condition.
pub(super) fn conditions(status: &Value) -> Vec<(String, String, String)> {
    status["conditions"]
        .as_array()
        .map(|cs| {
            cs.iter()
                .map(|c| {
                    let s = |k: &str| c[k].as_str().unwrap_or_default().to_owned();
                    (s("type"), s("status"), s("reason"))
                })
                .collect()
        })
        .unwrap_or_default()
}

pub(super) fn condition_message(status: &Value, type_: &str) -> String {
    status["conditions"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["type"] == type_))
        .and_then(|c| c["message"].as_str())
        .unwrap_or_default()
        .to_owned()
}

pub(super) fn cond(t: &str, s: &str, r: &str) -> (String, String, String) {
    (t.to_owned(), s.to_owned(), r.to_owned())
}

/// Runs one reconcile of `c` against `admin`, answering exactly `calls` in order.
pub(super) async fn reconcile_expecting(
    c: RocketCluster,
    calls: Vec<Call>,
    admin: Arc<super::lifecycle::ScriptedAdmin>,
) -> Result<kube::runtime::controller::Action, crate::controller::Error> {
    let (ctx, handle, _) = context_with(admin);
    let server = serve(handle, calls);
    // A roll's sends window sleeps 2 s inside the reconcile.
    let result = tokio::time::timeout(
        Duration::from_secs(10),
        crate::controller::reconcile(Arc::new(c), ctx),
    )
    .await
    .expect("reconcile finished in time");
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("every expected call came")
        .expect("scenario assertions hold");
    result
}

/// Answers `calls` in order on `handle`, asserting each, then asserts that no call follows.
pub(super) fn serve(mut handle: Handle, calls: Vec<Call>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        for expected in calls {
            let (request, send) = handle
                .next_request()
                .await
                .expect("the reconcile made the call");
            assert_eq!(
                request.method(),
                expected.method,
                "method of {}",
                expected.uri
            );
            let uri = request.uri().to_string();
            assert_eq!(uri, expected.uri);
            let bytes = request.into_body().collect_bytes().await.expect("body");
            let body: Value = if bytes.is_empty() {
                Value::Null
            } else {
                serde_json::from_slice(&bytes).expect("json body")
            };
            (expected.check)(&body);
            let (code, reply) = match expected.reply {
                Reply::Echo => (StatusCode::OK, body),
                Reply::EchoWithStatus(status) => {
                    let mut b = body;
                    b["status"] = status;
                    (StatusCode::OK, b)
                }
                Reply::Json(v) => (StatusCode::OK, v),
                Reply::WithStatusOf(mut object) => {
                    object["status"] = body["status"].clone();
                    (StatusCode::OK, object)
                }
                Reply::NotFound => (
                    StatusCode::NOT_FOUND,
                    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "reason": "NotFound", "message": "not found", "code": 404}),
                ),
                Reply::ServerError => (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "reason": "InternalError", "message": "etcd unavailable", "code": 500}),
                ),
                Reply::Invalid => (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "reason": "Invalid", "message": "StatefulSet.apps \"demo-broker-0\" is invalid: spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden", "code": 422}),
                ),
            };
            let response = Response::builder()
                .status(code)
                .body(Body::from(serde_json::to_vec(&reply).expect("reply")))
                .expect("response");
            send.send_response(response);
        }
        // Nothing more may be asked.
        let extra = tokio::time::timeout(Duration::from_millis(100), handle.next_request()).await;
        if let Ok(Some((request, _))) = extra {
            panic!("unexpected call {} {}", request.method(), request.uri());
        }
    })
}

/// The pods of the cluster, each `(name, ready)`.
pub(super) fn list_pods(pods: &[(&str, bool)]) -> Call {
    let items: Vec<Value> = pods
        .iter()
        .map(|(name, ready)| {
            json!({"metadata": {"name": name, "namespace": "mq",
                                "labels": {"controller-revision-hash": "rev-1"}},
                   "status": {"conditions": [{"type": "Ready", "status": if *ready { "True" } else { "False" }}]}})
        })
        .collect();
    call(
        Method::GET,
        format!(
            "/api/v1{NS}/pods?&labelSelector=app.kubernetes.io%2Finstance%3Ddemo%2Capp.kubernetes.io%2Fmanaged-by%3Drmq-operator"
        ),
        Reply::Json(json!({"apiVersion": "v1", "kind": "PodList", "metadata": {}, "items": items})),
    )
}
