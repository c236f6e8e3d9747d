//! "My progress": the resident's applications, unpaid bills and cases in one list, ordered by
//! `jingtong_api::progress::order` (what needs the resident first).

use jingtong_api::applications::{ApplicationStatus, ApplicationView};
use jingtong_api::cases::{CaseStatus, CaseView};
use jingtong_api::moves::{MoveParty, MoveStatus, MoveView};
use jingtong_api::payments::{BillStatus, BillView};
use jingtong_api::progress::{order, Attention, ProgressItem, ProgressKind};
use jingtong_api::Lang;

use crate::client::Client;
use crate::paging;
use crate::AppError;

pub(crate) async fn list(client: &Client, lang: Lang) -> Result<Vec<ProgressItem>, AppError> {
    // Every page of each list (100 rows a page, bounded by `paging::MAX_PAGES`): the order below
    // is across all of them, so it cannot be built from first pages.
    let (applications, bills, cases, moves) = tokio::join!(
        paging::all::<ApplicationView>(client, crate::applications::LIST),
        paging::all::<BillView>(client, crate::pay::BILLS),
        paging::all::<CaseView>(client, crate::cases::LIST),
        paging::all::<MoveView>(client, crate::moves::LIST),
    );
    let (applications, bills, cases, moves) = (applications?, bills?, cases?, moves?);
    let mut items = Vec::new();
    for a in &applications {
        use ApplicationStatus as S;
        let attention = match a.status {
            S::AwaitingPayment | S::ReadyForPickup | S::Rejected => Attention::ActNow,
            S::Submitted | S::Accepted | S::InProduction => Attention::Deadline,
            S::Posted => Attention::Waiting,
            S::Completed | S::Withdrawn => Attention::Done,
        };
        items.push(ProgressItem {
            kind: ProgressKind::Application,
            id: a.id.clone(),
            title: a.item_name.clone(),
            status: a.status.as_str().to_owned(),
            attention,
            next_step: a.next_step.clone(),
            deadline: a.deadline.clone(),
            updated_at: a.events.last().map_or_else(|| a.created_at.clone(), |e| e.at.clone()),
        });
    }
    // A fee bill shows as its application, not twice.
    let fee_bills: Vec<&str> = applications.iter().filter_map(|a| a.bill_id.as_deref()).collect();
    for b in bills.iter().filter(|b| b.status == BillStatus::Unpaid && !fee_bills.contains(&b.bill_id.as_str())) {
        let next_step = match lang {
            Lang::ZhCn => format!("请于 {} 前缴纳，逾期将按规定加处罚款或滞纳金", b.due_on),
            Lang::En => format!("Pay by {}; late payment adds a late fee", b.due_on),
        };
        items.push(ProgressItem {
            kind: ProgressKind::Bill,
            id: b.bill_id.clone(),
            title: b.description.clone(),
            status: "unpaid".to_owned(),
            attention: Attention::ActNow,
            next_step,
            deadline: Some(b.due_on.clone()),
            updated_at: b.due_on.clone(),
        });
    }
    for c in &cases {
        let attention = match c.status {
            _ if c.deadline.is_some() => Attention::Deadline,
            s if s.is_final() => Attention::Done,
            _ => Attention::Waiting,
        };
        let next_step = match (c.status, lang) {
            (CaseStatus::NotOpened, Lang::ZhCn) => "公安机关将书面告知不予立案的原因；如有异议可申请复议".to_owned(),
            (CaseStatus::NotOpened, Lang::En) => {
                "You will be told the reasons in writing; you may ask for a review".to_owned()
            }
            (s, Lang::ZhCn) if s.is_final() => "已办结".to_owned(),
            (s, Lang::En) if s.is_final() => "Finished".to_owned(),
            (_, Lang::ZhCn) => "办理中，有新进展时会通知您".to_owned(),
            (_, Lang::En) => "In progress; you will be told of news".to_owned(),
        };
        items.push(ProgressItem {
            kind: ProgressKind::Case,
            id: c.id.clone(),
            title: c.title.clone(),
            status: c.status.as_str().to_owned(),
            attention,
            next_step,
            deadline: c.deadline.clone(),
            updated_at: c.events.last().map_or_else(|| c.reported_at.clone(), |e| e.at.clone()),
        });
    }
    for m in &moves {
        items.push(move_item(m, lang));
    }
    order(&mut items);
    Ok(items)
}

/// A vehicle-moving request: the owner must answer; the requester may remind or close it.
fn move_item(m: &MoveView, lang: Lang) -> ProgressItem {
    let owner = m.role == MoveParty::Owner;
    let attention = match m.status {
        MoveStatus::Resolved => Attention::Done,
        _ if owner && m.can_answer => Attention::ActNow,
        _ if m.can_remind => Attention::ActNow,
        MoveStatus::Waiting => Attention::Deadline,
        _ => Attention::Waiting,
    };
    let zh = lang == Lang::ZhCn;
    let next_step = match (m.status, owner) {
        (MoveStatus::Resolved, _) => {
            if zh {
                "已解决"
            } else {
                "Resolved"
            }
        }
        (_, true) if m.can_answer => {
            if zh {
                "有人请您挪车，请回复是否前来"
            } else {
                "Someone asks you to move your car: please answer"
            }
        }
        (MoveStatus::Waiting, false) if m.can_remind => {
            if zh {
                "车主未回应，可以催单"
            } else {
                "No answer yet: you may remind the owner"
            }
        }
        (MoveStatus::Waiting, false) => {
            if zh {
                "已通知车主，等待回应"
            } else {
                "The owner was told; waiting for an answer"
            }
        }
        (MoveStatus::Coming, _) => {
            if zh {
                "车主正在赶来"
            } else {
                "The owner is on the way"
            }
        }
        (MoveStatus::Escalated, _) => {
            if zh {
                "已转交辖区交警处理"
            } else {
                "With the traffic police on duty"
            }
        }
        (_, true) => {
            if zh {
                "等待处理"
            } else {
                "Being handled"
            }
        }
    };
    let title = if zh { format!("挪车 {}", m.plate) } else { format!("Vehicle move {}", m.plate) };
    ProgressItem {
        kind: ProgressKind::VehicleMove,
        id: m.id.clone(),
        title,
        status: m.status.as_str().to_owned(),
        attention,
        next_step: next_step.to_owned(),
        deadline: if m.status == MoveStatus::Waiting { m.escalates_at.clone() } else { None },
        updated_at: m.events.last().map_or_else(|| m.created_at.clone(), |e| e.at.clone()),
    }
}
